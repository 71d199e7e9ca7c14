// Package sdk is what a crm plugin imports: the Plugin interface a plugin
// implements, Serve to run it, and the Host through which it reads and
// writes the CRM's records, emits events, logs and reads stored files.
//
// A plugin is a program of its own. The CRM starts it, asks for its
// Manifest (the actions, events, entities, webhook routes and buttons it
// offers), passes it its HCL `config`, and then calls it: Invoke when a rule
// or a user calls one of its actions, HandleEvents with the events it
// subscribed to, HandleWebhook for requests to /hooks/{plugin}/... Nothing
// of gRPC or go-plugin shows in this API; a plugin built with this package
// speaks plugin protocol version 1.
//
// # A plugin in one file
//
// A loyalty-points plugin for a retail client: a "redeem" action that takes
// points off a contact's loyalty account, refusing when there are not
// enough.
//
//	package main
//
//	import (
//		"context"
//
//		"github.com/crmkit/crm/plugins/sdk"
//	)
//
//	type Loyalty struct{ sdk.Base }
//
//	func (*Loyalty) Manifest() sdk.Manifest {
//		return sdk.Manifest{
//			Name: "loyalty", Version: "1.0.0",
//			Actions: []sdk.Action{{
//				Name: "redeem", Entities: []string{"contact"},
//				Args: []sdk.Arg{{Name: "points", Type: sdk.TypeInt, Required: true}},
//			}},
//			Entities: []sdk.Entity{{Name: "loyalty_account", Fields: []sdk.Field{
//				{Name: "contact", Type: sdk.TypeRef, To: "contact", Required: true, Unique: true},
//				{Name: "points", Type: sdk.TypeInt},
//			}}},
//		}
//	}
//
//	func (*Loyalty) Invoke(ctx context.Context, call sdk.Call) (any, error) {
//		var args struct{ Points int64 }
//		if err := call.DecodeArgs(&args); err != nil {
//			return nil, sdk.Refuse(sdk.CodeInvalidArgs, err.Error())
//		}
//		host := sdk.HostFrom(ctx)
//		page, err := host.List(ctx, sdk.Query{Entity: "loyalty_account", Filter: sdk.Eq("contact", call.Record.ID)})
//		if err != nil {
//			return nil, err // the caller's fault (a refusal) or a failure the host may retry
//		}
//		if len(page.Items) == 0 {
//			return nil, sdk.Refuse("no_account", "this contact has no loyalty account")
//		}
//		acc := page.Items[0]
//		var have struct{ Points int64 }
//		if err := acc.Decode(&have); err != nil {
//			return nil, err
//		}
//		if have.Points < args.Points {
//			return nil, sdk.RefuseField("points", "insufficient_points", "not enough points")
//		}
//		return host.Update(ctx, "loyalty_account", acc.ID(),
//			map[string]any{"points": have.Points - args.Points},
//			sdk.IfVersion(acc.Version()), sdk.IdempotencyKey(call.IdempotencyKey))
//	}
//
//	func main() { sdk.Serve(&Loyalty{}) }
//
// Build it, then name it in the CRM's configuration with its checksum and
// the entities it may read and write:
//
//	go build -o plugins/bin/loyalty ./cmd/loyalty
//	sha256sum plugins/bin/loyalty
//
//	plugin "loyalty" {
//	  path   = "plugins/bin/loyalty"
//	  sha256 = "<the sum>"
//	  read   = ["contact"]
//	  write  = ["loyalty_account"]
//	}
//
// # Requiring the SDK
//
// The SDK is a Go module of its own, github.com/crmkit/crm/plugins/sdk,
// that needs only the protocol module (github.com/crmkit/crm/plugins/proto),
// go-plugin, hclog and gRPC: a plugin that requires it does not pull in the
// CRM's store, configuration or rules engine. A partner's go.mod says
//
//	require github.com/crmkit/crm/plugins/sdk v1.2.0
//
// (go get github.com/crmkit/crm/plugins/sdk@latest), and, for the plugin's
// tests, github.com/crmkit/crm/plugins/sdk/sdktest: the test kit runs a real
// CRM host, so it is a module of its own that requires the core; it is a
// test-only dependency and never linked into the plugin binary.
// examples/loyalty is such a module.
//
// # Versions
//
// The SDK is versioned with the plugin protocol. Its major version is the
// protocol's: releases are tagged plugins/sdk/v1.x.y and
// plugins/proto/v1.x.y, and every SDK v1 release speaks protocol version 1,
// so a plugin built with any SDK v1 release runs on every CRM that speaks
// protocol 1. Minor releases add to the API (new Host calls, new manifest
// fields that older hosts ignore); patch releases fix. A protocol 2 would
// come as a new major version, github.com/crmkit/crm/plugins/sdk/v2.
//
// # Refusals and failures
//
// A method's error is one of two things, and the CRM treats them apart. A
// refusal (Refuse, RefuseField) is the plugin's deliberate "no": the user
// sees its message, a rule run records it, and it is never retried. Any
// other error is a failure: the call may be retried, with the same
// Call.IdempotencyKey, so pass that key on (the IdempotencyKey option) to a
// write that must happen once. A panic in a method fails that call only.
//
// # The host
//
// HostFrom(ctx) gives the Host in every method but Manifest. Every Host
// call is checked against the plugin block's read and write lists: outside
// them it fails with an error that matches ErrDenied, and nothing is
// written. Errors from the host are *HostError values; match them with
// errors.Is against ErrDenied, ErrNotFound, ErrInvalid, ErrConflict and
// ErrUnavailable. Records are Record values: the record's API JSON, with
// money as {"amount": "1500.00", "currency": "AMD"}, dates as "2026-03-21".
//
// Every call the host makes has a deadline (10 s unless the admin sets
// another), carried by ctx: pass ctx on to every blocking call.
//
// # Output
//
// Write nothing to stdout before Serve: the host reads the handshake there.
// Afterwards, stdout, stderr and Host.Log lines all go into the CRM's log,
// tagged with the plugin's name.
//
// # Testing
//
// Manifest.Validate checks a manifest as the host will. Package sdktest
// runs a plugin against a real, temporary CRM host (a real store in a
// temporary directory, the same permission checks and validation), which
// is how a plugin's own tests should drive it. For a quick unit test, a
// plugin's methods can also be called directly with a Host of the test's
// own (WithHost); see the package example.
package sdk
