package app

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/crmkit/crm/config"
	"github.com/crmkit/crm/core/schema"
	"github.com/crmkit/crm/core/store"
	"github.com/crmkit/crm/core/store/postgres"
)

// OpenStore opens the store the server block chooses: Badger in dataDir
// (the default), or PostgreSQL at the URL in the environment variable the
// block names (server.postgres_url_env, default CRM_POSTGRES_URL), which
// several nodes may share.
func OpenStore(cfg *config.Config, sch *schema.Schema, dataDir string, log *slog.Logger) (store.Store, error) {
	if cfg.Server.Store == config.StorePostgres {
		env := cfg.Server.PostgresURLEnv
		if env == "" {
			env = config.DefaultPostgresURLEnv
		}
		url := os.Getenv(env)
		if url == "" {
			return nil, fmt.Errorf("server.store is \"postgres\" but %s is not set: set it to the database's URL, e.g. %s=postgres://crm@localhost:5432/crm", env, env)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		st, err := postgres.Open(ctx, url, sch, postgres.Options{Logger: log})
		if err != nil {
			return nil, fmt.Errorf("open the PostgreSQL store (from %s): %w", env, err)
		}
		return st, nil
	}
	st, err := store.OpenBadger(dataDir, sch, store.Options{Logger: log})
	if err != nil {
		if strings.Contains(err.Error(), "Cannot acquire directory lock") {
			return nil, fmt.Errorf("the store in %s is in use by another crm process (a running crm serve?); stop it first: %w", dataDir, err)
		}
		return nil, err
	}
	return st, nil
}
