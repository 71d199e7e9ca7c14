package main

import (
	"context"
	"errors"
	"log/slog"

	"github.com/crmkit/crm/core/store"
)

// errNoPostgres is openPostgres's answer while the PostgreSQL store is not
// part of this build.
var errNoPostgres = errors.New("postgres store not built into this branch")

// openPostgres opens the PostgreSQL store of the configuration (server.store
// = "postgres", its URL in the environment variable server.postgres_url_env
// names). crm backup, crm restore and crm migrate open it through here; it
// is the one place to wire core/store/postgres in.
func openPostgres(ctx context.Context, ck *checked, log *slog.Logger) (store.Store, error) {
	_, _, _ = ctx, ck, log
	return nil, errNoPostgres
}
