// Package browsertest drives the web UI in a real Chromium (chromedp)
// against a real `crm serve`: the binary is built once per test process and
// started on a free port with a temporary data directory and the HCL
// fixture in testdata/. It holds tests only.
//
// Without Chromium the tests fail naming the install command, unless
// CRM_SKIP_BROWSER=1. With CRM_SCREENSHOTS=1 they write the screenshots of
// the main screens, in English and Persian, to docs/screenshots/.
package browsertest
