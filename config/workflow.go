package config

import (
	"fmt"
	"math/big"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// Workflow is the workflow block: how the rules engine runs. Every
// attribute is optional; a missing block means the defaults.
//
//	workflow {
//	  run_retention = "720h"  # how long finished rule runs stay visible
//	  workers       = 8       # rule runs in parallel
//	  max_attempts  = 5       # tries before a failing run stays failed
//	  max_depth     = 5       # longest chain of rules triggering rules
//	}
type Workflow struct {
	RunRetention time.Duration // default 30 days
	Workers      int           // default 8
	MaxAttempts  int           // default 5
	MaxDepth     int           // default 5
	Range        hcl.Range
}

// DefaultWorkflow is the workflow block's defaults.
var DefaultWorkflow = Workflow{RunRetention: 30 * 24 * time.Hour, Workers: 8, MaxAttempts: 5, MaxDepth: 5}

var workflowSchema = attrSchema("run_retention", "workers", "max_attempts", "max_depth")

// decodeWorkflow decodes the workflow block.
func (l *loader) decodeWorkflow(hb *hcl.Block) {
	if l.workflowSeen != nil {
		l.report(hb.DefRange, "duplicate workflow block", "first defined at "+where(*l.workflowSeen))
		return
	}
	l.workflowSeen = &hb.DefRange
	b, _ := l.open(hb, workflowSchema)
	w := DefaultWorkflow
	w.Range = hb.DefRange
	var retention string
	b.str("run_retention", &retention)
	if retention != "" {
		d, err := time.ParseDuration(retention)
		if err != nil || d < time.Hour {
			b.fail("run_retention", fmt.Sprintf("run_retention %q is not a duration of at least 1h", retention), `e.g. run_retention = "720h" (30 days)`)
		} else {
			w.RunRetention = d
		}
	}
	b.intIn("workers", 1, 64, &w.Workers)
	b.intIn("max_attempts", 1, 50, &w.MaxAttempts)
	b.intIn("max_depth", 1, 50, &w.MaxDepth)
	l.cfg.Workflow = w
}

// intIn decodes a whole number from lo to hi.
func (b *block) intIn(attr string, lo, hi int64, dst *int) {
	v, ok := b.value(attr)
	if !ok {
		return
	}
	msg := fmt.Sprintf("%s must be a whole number from %d to %d", attr, lo, hi)
	n, err := convert.Convert(v, cty.Number)
	if err != nil {
		b.fail(attr, msg, "")
		return
	}
	f := n.AsBigFloat()
	if !f.IsInt() || f.Cmp(big.NewFloat(float64(lo))) < 0 || f.Cmp(big.NewFloat(float64(hi))) > 0 {
		b.fail(attr, msg, fmt.Sprintf("got %s", f.Text('g', -1)))
		return
	}
	i, _ := f.Int64()
	*dst = int(i)
}
