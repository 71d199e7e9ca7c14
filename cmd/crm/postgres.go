package main

import (
	"context"
	"log/slog"

	"github.com/crmkit/crm/config"
	"github.com/crmkit/crm/core/app"
	"github.com/crmkit/crm/core/store"
)

// openPostgres opens the PostgreSQL store at the URL in the environment
// variable server.postgres_url_env names (default CRM_POSTGRES_URL),
// whatever server.store says: crm migrate opens it as a source or a
// destination of a Badger store's configuration. crm backup, crm restore
// and crm migrate open it through here, as crm serve does (app.OpenStore).
func openPostgres(ctx context.Context, ck *checked, log *slog.Logger) (store.Store, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	cfg := *ck.cfg
	cfg.Server.Store = config.StorePostgres
	return app.OpenStore(&cfg, ck.sch, "", log)
}
