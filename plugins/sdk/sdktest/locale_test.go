package sdktest_test

import (
	"context"
	"reflect"
	"sync"
	"testing"

	"github.com/crmkit/crm/plugins/sdk"
	"github.com/crmkit/crm/plugins/sdk/sdktest"
)

// localePlugin keeps the Config its Configure receives.
type localePlugin struct {
	sdk.Base
	mu  sync.Mutex
	got sdk.Config
}

func (*localePlugin) Manifest() sdk.Manifest {
	return sdk.Manifest{Name: "localeplugin", Version: "1.0.0"}
}

func (p *localePlugin) Configure(_ context.Context, c sdk.Config) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.got = c
	return nil
}

// TestOptionsLocale: Configure receives the locale block of Options.Config,
// each field Options.Locale sets in its place, and the defaults for the
// rest, with the plugin block's name, config and grants.
func TestOptionsLocale(t *testing.T) {
	for name, tc := range map[string]struct {
		opts sdktest.Options
		want sdk.Locale
	}{
		"nothing set": {sdktest.Options{}, sdk.DefaultLocale()},
		"a locale block": {
			sdktest.Options{Config: `locale {
  languages = ["fa", "en"]
  calendar  = "jalali"
  currency  = "IRR"
  timezone  = "Asia/Tehran"
}`},
			sdk.Locale{Languages: []string{"fa", "en"}, Default: "fa", Calendar: "jalali", Currency: "IRR", Timezone: "Asia/Tehran"},
		},
		"Options.Locale over the block": {
			sdktest.Options{Config: `locale {
  calendar = "jalali"
  currency = "IRR"
}`, Locale: sdk.Locale{Languages: []string{"hy", "en"}, Currency: "AMD", Region: "AM"}},
			sdk.Locale{Languages: []string{"hy", "en"}, Default: "hy", Calendar: "jalali", Currency: "AMD", Timezone: "UTC", Region: "AM"},
		},
	} {
		t.Run(name, func(t *testing.T) {
			p := &localePlugin{}
			tc.opts.Read, tc.opts.PluginConfig = []string{"contact"}, map[string]any{"k": "v"}
			sdktest.Start(t, p, tc.opts)
			p.mu.Lock()
			defer p.mu.Unlock()
			if !reflect.DeepEqual(p.got.Locale, tc.want) {
				t.Errorf("locale %+v, want %+v", p.got.Locale, tc.want)
			}
			if p.got.Name != "localeplugin" || p.got.Values["k"] != "v" || !reflect.DeepEqual(p.got.Read, []string{"contact"}) {
				t.Errorf("config %+v", p.got)
			}
		})
	}
}
