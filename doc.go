// Package crm is the root of the repository; it holds no code, only this
// map of who may import whom, which layers_test.go enforces.
//
// The arrows point one way:
//
//	cmd/crm -> core/app -> core/api, core/plugins, core/rules, core/auth
//	        -> core/store -> core/schema -> config
//
// cmd is imported by nothing; config imports no core package and no cmd.
// No core package imports cmd, the plugin SDK (plugins/sdk) or the
// first-party plugins (plugins), which are written against the SDK alone
// and import no core or config; the host speaks to plugins through
// the protocol package (plugins/proto/crmv1) alone. The exceptions are
// core/plugins/internal/testplugin, a plugin the host's tests build with the
// SDK, and plugins/sdk/exprbudget, the budget of steps, memory and time of
// every expr program user input reaches: a leaf that depends on expr alone,
// which the core's filters and rules and the plugins' templates share.
//
// The plugin side is separate Go modules a partner requires:
// plugins/proto imports nothing of the repository; plugins/sdk imports only
// itself and plugins/proto; examples/ import only the SDK (a partner's view
// of it). The SDK's test kit, plugins/sdk/sdktest, runs a real host and so
// is the one part of the plugin side allowed to import core and config.
package crm
