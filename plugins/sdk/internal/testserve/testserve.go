// Package testserve lets the SDK's test kit serve a plugin inside the test
// process without go-plugin types in the SDK's own API: package sdk sets
// Serve when it is initialised.
package testserve

import (
	"context"

	goplugin "github.com/hashicorp/go-plugin"
)

// Serve serves p (an sdk.Plugin) in this process until ctx is done, and
// returns what a host needs to attach to it and a channel closed when the
// serving has stopped.
var Serve func(ctx context.Context, p any) (*goplugin.ReattachConfig, <-chan struct{}, error)
