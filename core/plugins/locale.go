package plugins

import (
	"github.com/crmkit/crm/config"
	"github.com/crmkit/crm/plugins/proto/crmv1"
)

// localeProto is the locale block as Configure sends it.
func localeProto(l config.Locale) *crmv1.Locale {
	return &crmv1.Locale{
		Languages: l.Languages, DefaultLanguage: l.Default, Calendar: l.Calendar,
		Currency: l.Currency, Timezone: l.Timezone, Region: l.Region,
	}
}
