package sdk

import (
	"context"
	"errors"
	"fmt"
	"time"

	goplugin "github.com/hashicorp/go-plugin"

	"github.com/crmkit/crm/plugins/sdk/internal/testserve"
)

func init() { testserve.Serve = serveInProcess }

// serveInProcess serves p in go-plugin's test mode: in this process, on a
// local socket, with nothing on stdout, until ctx is done.
func serveInProcess(ctx context.Context, p any) (*goplugin.ReattachConfig, <-chan struct{}, error) {
	pl, ok := p.(Plugin)
	if !ok {
		return nil, nil, fmt.Errorf("serve in process: %T is not an sdk.Plugin", p)
	}
	attach := make(chan *goplugin.ReattachConfig, 1)
	closed := make(chan struct{})
	go goplugin.Serve(serveConfig(pl, &goplugin.ServeTestConfig{Context: ctx, ReattachConfigCh: attach, CloseCh: closed}))
	select {
	case rc := <-attach:
		return rc, closed, nil
	case <-closed:
		return nil, nil, errors.New("serve in process: the plugin server stopped before it listened")
	case <-time.After(10 * time.Second):
		return nil, nil, errors.New("serve in process: the plugin server did not listen within 10s")
	}
}
