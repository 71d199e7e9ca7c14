package plugins_test

import (
	"reflect"
	"testing"

	"github.com/crmkit/crm/config"
	"github.com/crmkit/crm/core/plugins"
	"github.com/crmkit/crm/core/plugins/internal/testplugin"
)

// TestConfigureSendsLocale: the locale block of the configuration reaches
// a real plugin process with its configuration; a host given no locale
// sends the defaults.
func TestConfigureSendsLocale(t *testing.T) {
	cfg, diags := config.LoadSources(map[string][]byte{"locale.hcl": []byte(`
locale {
  languages = ["hy", "en", "fa"]
  calendar  = "jalali"
  currency  = "AMD"
  timezone  = "Asia/Yerevan"
  region    = "AM"
}
`)})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	for name, tc := range map[string]struct {
		locale config.Locale
		want   map[string]any
	}{
		"the locale block": {cfg.Locale, map[string]any{
			"Languages": []any{"hy", "en", "fa"}, "Default": "hy", "Calendar": "jalali",
			"Currency": "AMD", "Timezone": "Asia/Yerevan", "Region": "AM",
		}},
		"no locale": {config.Locale{}, map[string]any{
			"Languages": []any{"en"}, "Default": "en", "Calendar": "gregorian",
			"Currency": "USD", "Timezone": "UTC", "Region": "",
		}},
	} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, plugins.Options{Locale: tc.locale})
			if err := e.host.Start(background(), []*config.Plugin{thirdParty(t, "tp", testplugin.ModeOK)}); err != nil {
				t.Fatal(err)
			}
			if got := invoke(t, e, "tp", plugins.Call{Action: "locale"}); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("the plugin's locale %v, want %v", got, tc.want)
			}
		})
	}
}
