package sdktest_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/crmkit/crm/plugins/sdk"
	"github.com/crmkit/crm/plugins/sdk/sdktest"
)

// archive stores files it makes and attaches them to a record of its own,
// and describes entities: the Host's WriteFile and Schema, through a real host.
type archive struct{ sdk.Base }

func (*archive) Manifest() sdk.Manifest {
	return sdk.Manifest{
		Name: "archive", Version: "1.0.0",
		Actions: []sdk.Action{
			{Name: "store", Args: []sdk.Arg{{Name: "size", Type: sdk.TypeInt, Required: true}, {Name: "name", Type: sdk.TypeString}}},
			{Name: "describe", Args: []sdk.Arg{{Name: "entity", Type: sdk.TypeString, Required: true}}},
		},
		Entities: []sdk.Entity{{Name: "archived", Fields: []sdk.Field{
			{Name: "title", Type: sdk.TypeString},
			{Name: "file", Type: sdk.TypeFile},
		}}},
	}
}

func (*archive) Invoke(ctx context.Context, call sdk.Call) (any, error) {
	host := sdk.HostFrom(ctx)
	var args struct {
		Size   int64
		Name   string
		Entity string
	}
	if err := call.DecodeArgs(&args); err != nil {
		return nil, sdk.Refuse(sdk.CodeInvalidArgs, err.Error())
	}
	switch call.Action {
	case "describe":
		return host.Schema(ctx, args.Entity)
	case "store":
		if args.Name == "" {
			args.Name = "report.txt"
		}
		data := bytes.Repeat([]byte("0123456789abcdef"), int(args.Size/16)+1)[:args.Size]
		info, err := host.WriteFile(ctx, args.Name, "text/plain", bytes.NewReader(data))
		if err != nil {
			return nil, err
		}
		_, rc, err := host.ReadFile(ctx, info.ID)
		if err != nil {
			return nil, err
		}
		defer rc.Close()
		back, err := io.ReadAll(rc)
		if err != nil || !bytes.Equal(back, data) {
			return nil, errors.New("the file read back differs from the one written")
		}
		return host.Create(ctx, "archived", map[string]any{"title": args.Name, "file": info.ID})
	}
	return nil, sdk.Refuse(sdk.CodeUnknownAction, call.Action)
}

func TestWriteFileAndSchema(t *testing.T) {
	h := sdktest.Start(t, &archive{}, sdktest.Options{
		Read: []string{"deal"}, Write: []string{"archived"},
		Config: `entity "deal" {
  field "vin" { type = "string" }
}`,
	})
	// Over several chunks (the host streams 256 KiB ones).
	var rec sdk.Record
	if err := h.InvokeInto(sdk.Call{Action: "store", Args: map[string]any{"size": 600 << 10}}, &rec); err != nil {
		t.Fatal(err)
	}
	got := h.Get("archived", rec.ID())
	file, _ := got["file"].(map[string]any)
	if file["size"] != float64(600<<10) || file["name"] != "report.txt" || file["content_type"] != "text/plain" {
		t.Errorf("stored file: %v", file)
	}
	if info, data := h.ReadFile(file["id"].(string)); info.Size != 600<<10 || len(data) != 600<<10 || string(data[:4]) != "0123" {
		t.Errorf("read back: %+v, %d bytes", info, len(data))
	}
	// Empty files are files too.
	if err := h.InvokeInto(sdk.Call{Action: "store", Args: map[string]any{"size": 0}}, &rec); err != nil {
		t.Fatal(err)
	}
	// Too large: refused, nothing stored.
	_, err := h.Invoke(sdk.Call{Action: "store", Args: map[string]any{"size": sdk.MaxFileSize + 1}})
	var r *sdk.Refusal
	if !errors.As(err, &r) || !strings.Contains(r.Message, "larger than") {
		t.Errorf("a file over the limit: %v", err)
	}
	_, err = h.Invoke(sdk.Call{Action: "store", Args: map[string]any{"size": 10, "name": "a/b"}})
	if !errors.As(err, &r) || r.Field != "name" {
		t.Errorf("a name with a slash: %v", err)
	}

	var deal sdk.Entity
	if err := h.InvokeInto(sdk.Call{Action: "describe", Args: map[string]any{"entity": "deal"}}, &deal); err != nil {
		t.Fatal(err)
	}
	types := map[string]string{}
	for _, f := range deal.Fields {
		types[f.Name] = f.Type
	}
	if deal.Name != "deal" || types["amount"] != sdk.TypeMoney || types["vin"] != sdk.TypeString || types["contact"] != sdk.TypeRef {
		t.Errorf("schema of deal: %+v", deal)
	}
	_, err = h.Invoke(sdk.Call{Action: "describe", Args: map[string]any{"entity": "contact"}})
	if !errors.As(err, &r) || r.Code != sdk.CodeDenied {
		t.Errorf("schema of an entity outside the grants: %v", err)
	}
	_, err = h.Invoke(sdk.Call{Action: "describe", Args: map[string]any{"entity": "nosuch"}})
	if err == nil {
		t.Errorf("schema of no entity: no error")
	}
}

// A plugin whose block lets it write no entity with a file field may not
// store files.
func TestWriteFileDenied(t *testing.T) {
	h := sdktest.Start(t, &archive{}, sdktest.Options{Read: []string{"archived"}, Write: []string{"deal"}})
	_, err := h.Invoke(sdk.Call{Action: "store", Args: map[string]any{"size": 10}})
	var r *sdk.Refusal
	if !errors.As(err, &r) || r.Code != sdk.CodeDenied || !strings.Contains(r.Message, "may not store files") {
		t.Errorf("store without a file grant: %v", err)
	}
}

// TestMain serves the archive plugin when Start runs it in a process of
// its own (Options.Process).
func TestMain(m *testing.M) { sdktest.Main(m, func() sdk.Plugin { return &archive{} }) }

// The same plugin in a process of its own: the host starts the test binary
// again, which serves it.
func TestProcess(t *testing.T) {
	h := sdktest.Start(t, &archive{}, sdktest.Options{Write: []string{"archived"}, Process: true})
	var rec sdk.Record
	if err := h.InvokeInto(sdk.Call{Action: "store", Args: map[string]any{"size": 1000}}, &rec); err != nil {
		t.Fatal(err)
	}
	if warning, err := h.Health(); err != nil || warning != "" || h.Restarts() != 0 {
		t.Errorf("health: %q, %v, %d restarts", warning, err, h.Restarts())
	}
	if !strings.Contains(h.Log(), "plugin running") || !strings.Contains(h.Log(), "pid=") {
		t.Errorf("no process started:\n%s", h.Log())
	}
}
