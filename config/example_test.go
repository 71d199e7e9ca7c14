package config_test

import (
	"fmt"
	"os"

	"github.com/crmkit/crm/config"
)

// The loader reports every problem with its position, the source line and
// a "did you mean" where a near name exists.
func ExampleLoadSources() {
	src := `entity "vehicle" {
  field "vin" {
    type   = "strng"
    unique = true
  }
  field "buyer" {
    type = "ref"
    to   = "contat"
  }
}

role "sales" {
  read  = ["vehicle", "contact"]
  write = ["vehicle"]
}
`
	cfg, diags := config.LoadSources(map[string][]byte{"crm.hcl": []byte(src)})
	config.WriteDiagnostics(os.Stdout, cfg.Files, diags)
	fmt.Println(diags.HasErrors(), cfg.Role("sales").Read)
	// Output:
	// crm.hcl:3:14: error: unknown field type "strng"; did you mean "string"?
	//     3 |     type   = "strng"
	//       |              ^
	// crm.hcl:8:12: error: ref field "buyer" points at unknown entity "contat"; did you mean "contact"?
	//     8 |     to   = "contat"
	//       |            ^
	// true [vehicle contact]
}

// Load takes a file or a directory of *.hcl files. The built-in entities
// come first in Entities, with the fields the files add to them.
func ExampleLoad() {
	cfg, diags := config.Load("../crm.hcl")
	if diags.HasErrors() {
		config.WriteDiagnostics(os.Stderr, cfg.Files, diags)
		return
	}
	for _, e := range cfg.Entities {
		fmt.Println(e.Name, e.Builtin, len(e.Fields))
	}
	// Output:
	// contact true 9
	// company true 6
	// deal true 9
	// activity true 8
	// task true 7
	// vehicle false 11
}
