package sdktest

import (
	"github.com/crmkit/crm/config"
	"github.com/crmkit/crm/plugins/sdk"
)

// withLocale is the configuration's locale block with the fields a test set
// in Options.Locale in place of its own.
func withLocale(l config.Locale, set sdk.Locale) config.Locale {
	if len(set.Languages) > 0 {
		l.Languages = set.Languages
		if set.Default == "" {
			l.Default = set.Languages[0]
		}
	}
	for to, from := range map[*string]string{
		&l.Default: set.Default, &l.Calendar: set.Calendar, &l.Currency: set.Currency,
		&l.Timezone: set.Timezone, &l.Region: set.Region,
	} {
		if from != "" {
			*to = from
		}
	}
	return l
}
