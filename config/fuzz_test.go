package config

import (
	"io"
	"os"
	"testing"
)

// FuzzLoad feeds arbitrary bytes to the loader as one file: it must never
// panic, always return a config, and its diagnostics must print.
func FuzzLoad(f *testing.F) {
	for _, c := range errorCases {
		f.Add([]byte(c.src))
	}
	if b, err := os.ReadFile("../crm.hcl"); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		cfg, diags := LoadSources(map[string][]byte{"fuzz.hcl": src})
		if cfg == nil {
			t.Fatal("nil config")
		}
		WriteDiagnostics(io.Discard, cfg.Files, diags)
	})
}
