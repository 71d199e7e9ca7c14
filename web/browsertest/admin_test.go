package browsertest

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/crmkit/crm/core/testkit"
)

// TestAdmin: an admin creates a user, changes their role and disables
// them; reads the roles; creates an API token (shown once, usable) and
// revokes it; restarts a plugin; sees a rule's runs and the diagnostics of
// a refused reload.
func TestAdmin(t *testing.T) {
	// A copy of the fixture, which the test breaks to have a reload refused.
	fixture, err := os.ReadFile("testdata/pipeline.hcl")
	if err != nil {
		t.Fatal(err)
	}
	// And the host's test plugin, for the plugins section.
	bin, sum := testkit.BuildPlugin(t, "./core/plugins/internal/testplugin/cmd")
	// Its config makes it answer health checks degraded, with a warning.
	fixture = append(fixture, fmt.Sprintf("\nplugin \"testplugin\" {\n  path   = %q\n  sha256 = %q\n  read   = [\"contact\"]\n  config = { degraded = \"the converter soffice is not installed\" }\n}\n", bin, sum)...)
	config := filepath.Join(t.TempDir(), "crm.hcl")
	if err := os.WriteFile(config, fixture, 0o644); err != nil {
		t.Fatal(err)
	}
	s := startCRMWith(t, config)
	b := browser(t)
	ctx := session(t, b)
	signIn(t, ctx, s)
	// window.confirm answers yes, as the admin would.
	run(t, ctx, "admin area",
		chromedp.Navigate(s.URL+"/admin"),
		waitJS(`[...document.querySelectorAll('#sidebar a')].some(a => a.getAttribute('href') === '/admin')`),
		waitJS(`document.querySelector('#users-table tbody tr')`),
		chromedp.Evaluate[chromedp.Void](`window.confirm = () => true`),
	)

	t.Run("users: create, change role, disable", func(t *testing.T) {
		run(t, ctx, "create",
			chromedp.SendKeys(chromedp.CSS(`#new-user-email`), "ani@example.com"),
			chromedp.SendKeys(chromedp.CSS(`#new-user-name`), "Ani Grigoryan"),
			setSelect(`#new-user-role`, "sales"),
			chromedp.SendKeys(chromedp.CSS(`#new-user-password`), "ani-password-2026"),
			chromedp.Click(chromedp.CSS(`#new-user button[type=submit]`)),
			waitJS(`[...document.querySelectorAll('#users-table tbody tr')].some(r => r.textContent.includes('ani@example.com'))`),
		)
		user := func() record {
			var res struct{ Items []record }
			s.mustAPI(t, "GET", "/api/v1/users", nil, &res)
			for _, u := range res.Items {
				if u["email"] == "ani@example.com" {
					return u
				}
			}
			t.Fatal("the new user is not listed by the API")
			return nil
		}
		u := user()
		id := u["id"].(string)
		if u["role"] != "sales" {
			t.Fatalf("role %v, want sales", u["role"])
		}
		screenshot(t, ctx, "en-admin-users")
		run(t, ctx, "change role and disable",
			setSelect(`#role-`+id, "manager"),
			s.waitAPI(t, "/api/v1/users", "role manager", func(record) bool { return user()["role"] == "manager" }),
			chromedp.Click(chromedp.CSS(`#toggle-`+id)),
			s.waitAPI(t, "/api/v1/users", "disabled", func(record) bool { return user()["disabled"] == true }),
			waitJS(`document.querySelector('#toggle-`+id+`').textContent.trim() === 'Enable'`),
		)
	})

	t.Run("roles are listed", func(t *testing.T) {
		run(t, ctx, "roles",
			chromedp.Click(chromedp.CSS(`.admin-tabs a[href="/admin/roles"]`)),
			waitJS(`['admin', 'sales', 'manager'].every(n => [...document.querySelectorAll('#roles-table tbody tr')].some(r => r.textContent.startsWith(n)))`),
		)
	})

	t.Run("tokens: created, shown once, revoked", func(t *testing.T) {
		run(t, ctx, "create a token",
			chromedp.Click(chromedp.CSS(`.admin-tabs a[href="/admin/tokens"]`)),
			chromedp.WaitVisible(chromedp.CSS(`#token-name`)),
			chromedp.SendKeys(chromedp.CSS(`#token-name`), "Accounting export"),
			chromedp.Click(chromedp.CSS(`#new-token button[type=submit]`)),
			waitJS(`document.querySelector('#token-secret') && document.querySelector('#token-secret').textContent.length > 20`),
			waitJS(`[...document.querySelectorAll('#tokens-table tbody tr')].some(r => r.textContent.includes('Accounting export'))`),
		)
		secret, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('#token-secret').textContent`))
		if err != nil {
			t.Fatal(err)
		}
		asToken := func() int {
			req, _ := http.NewRequest("GET", s.URL+"/api/v1/auth/me", nil)
			req.Header.Set("Authorization", "Bearer "+secret)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			return res.StatusCode
		}
		if st := asToken(); st != 200 {
			t.Fatalf("the new token: %d", st)
		}
		run(t, ctx, "revoke it",
			waitJS(`(() => { const r = [...document.querySelectorAll('#tokens-table tbody tr')].find(r => r.textContent.includes('Accounting export'));
				r.querySelector('button.danger').click(); return true; })()`),
			waitJS(`![...document.querySelectorAll('#tokens-table tbody tr')].some(r => r.textContent.includes('Accounting export'))`),
			waitJS(`!document.querySelector('#token-secret')`),
		)
		if st := asToken(); st != 401 {
			t.Fatalf("the revoked token: %d, want 401", st)
		}
	})

	t.Run("plugins: state, restart", func(t *testing.T) {
		run(t, ctx, "restart the plugin",
			chromedp.Click(chromedp.CSS(`.admin-tabs a[href="/admin/plugins"]`)),
			waitJS(`document.querySelector('tr[data-plugin=testplugin] .state-running')`),
			waitJS(`!document.querySelector('.toast')`),
			chromedp.Click(chromedp.CSS(`#restart-testplugin`)),
			s.waitAPI(t, "/api/v1/plugins/testplugin", "restarted once", func(v record) bool {
				st, _ := v["status"].(map[string]any)
				return st["restarts"] == float64(1) && st["state"] == "running"
			}),
			waitJS(`document.querySelector('tr[data-plugin=testplugin] .state-running') &&
				document.querySelector('tr[data-plugin=testplugin] td:nth-child(3)').textContent.trim().startsWith('1')`),
			// A degraded plugin runs on, its warning beside its state.
			s.waitAPI(t, "/api/v1/plugins/testplugin", "a warning", func(v record) bool {
				st, _ := v["status"].(map[string]any)
				w, _ := st["warning"].(string)
				return w != ""
			}),
			chromedp.Reload(),
			waitJS(`document.querySelector('tr[data-plugin=testplugin] [data-warning]')?.textContent.includes('soffice')`),
		)
		screenshot(t, ctx, "en-admin-plugins")
	})

	t.Run("rules: runs and a refused reload's diagnostics", func(t *testing.T) {
		deal := s.newDeal(t, "Fleet of 3 Niva", "proposal", "")
		s.mustAPI(t, "PATCH", "/api/v1/records/deal/"+deal, map[string]string{"stage": "won"}, nil)
		run(t, ctx, "the rule and its run",
			s.waitAPI(t, "/api/v1/rules/won_deal_follow_up/runs", "a run of the rule", func(v record) bool {
				runs, _ := v["items"].([]any)
				return len(runs) > 0
			}))
		run(t, ctx, "the rules tab",
			chromedp.Click(chromedp.CSS(`.admin-tabs a[href="/admin/rules"]`)),
			waitJS(`document.querySelector('#config-status .state-running')`),
			waitJS(`document.querySelector('tr[data-rule=won_deal_follow_up]')`))
		run(t, ctx, "its runs",
			// The toasts of the earlier steps gone, none covers the button.
			waitJS(`!document.querySelector('.toast')`),
			chromedp.Click(chromedp.CSS(`#runs-won_deal_follow_up`)),
			waitJS(`document.querySelector('#runs tr[data-run] .state-running')`),
		)
		// A failed run (a chain cut at the depth limit) and its retry.
		s.mustAPI(t, "POST", "/api/v1/records/activity", map[string]string{"kind": "note", "subject": "loop"}, nil)
		var failed record
		run(t, ctx, "a failed run",
			s.waitAPI(t, "/api/v1/rules/endless_notes/runs", "a failed run of endless_notes", func(v record) bool {
				runs, _ := v["items"].([]any)
				for _, r := range runs {
					if r := r.(map[string]any); r["status"] == "failed" {
						failed = r
						return true
					}
				}
				return false
			}))
		seq := fmt.Sprint(int64(failed["seq"].(float64)))
		run(t, ctx, "retry it",
			waitJS(`!document.querySelector('.toast')`),
			chromedp.Click(chromedp.CSS(`#runs-endless_notes`)),
			waitJS(`document.querySelector('#runs tr[data-run="`+seq+`"] button.primary')`),
			chromedp.Click(chromedp.CSS(`#runs tr[data-run="`+seq+`"] button.primary`)),
			waitJS(`[...document.querySelectorAll('.toast')].some(e => /succeeded this time|failed again/.test(e.textContent))`),
			s.waitAPI(t, "/api/v1/rules/endless_notes/runs", "the run retried", func(v record) bool {
				runs, _ := v["items"].([]any)
				for _, r := range runs {
					if r := r.(map[string]any); r["id"] == failed["id"] {
						return r["started"] != failed["started"]
					}
				}
				return false
			}),
		)
		broken := append(fixture, []byte("\nrule \"broken\" {\n  on = [\"nosuchentity.created\"]\n}\n")...)
		if err := os.WriteFile(config, broken, 0o644); err != nil {
			t.Fatal(err)
		}
		run(t, ctx, "the diagnostics of the refused reload",
			s.waitAPI(t, "/api/v1/config/status", "the reload refused", func(v record) bool { return v["ok"] == false }))
		run(t, ctx, "shown on the rules tab",
			chromedp.Click(chromedp.CSS(`.admin-tabs a[href="/admin/plugins"]`)),
			waitJS(`document.querySelector('tr[data-plugin=testplugin]')`),
			chromedp.Click(chromedp.CSS(`.admin-tabs a[href="/admin/rules"]`)),
			waitJS(`document.querySelector('#config-diagnostics') && document.querySelector('#config-diagnostics').textContent.includes('rule "broken"')`),
		)
		screenshot(t, ctx, "en-admin-rules")
	})

	t.Run("a user who is not an admin has no admin area", func(t *testing.T) {
		s.mustAPI(t, "POST", "/api/v1/users", map[string]string{"email": "sales@example.com", "name": "Sona",
			"role": "sales", "password": "sales-password-2026"}, nil)
		sales := session(t, b)
		run(t, sales, "sign in as sales",
			chromedp.Navigate(s.URL+"/admin/users"),
			chromedp.WaitVisible(chromedp.CSS(`#signin-email`)),
			chromedp.SendKeys(chromedp.CSS(`#signin-email`), "sales@example.com"),
			chromedp.SendKeys(chromedp.CSS(`#signin-password`), "sales-password-2026"),
			chromedp.Click(chromedp.CSS(`form.signin-card button[type=submit]`)),
			chromedp.WaitVisible(chromedp.CSS(`#sidebar`)),
			waitJS(`[...document.querySelectorAll('#sidebar a')].some(a => a.getAttribute('href') === '/tasks')`),
			waitJS(`![...document.querySelectorAll('#sidebar a')].some(a => a.getAttribute('href') === '/admin')`),
			waitJS(`document.querySelector('main .empty') && !document.querySelector('#users-table')`),
		)
	})
}
