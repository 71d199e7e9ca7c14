package app

import (
	"log/slog"

	"github.com/crmkit/crm/config"
	"github.com/crmkit/crm/core/lease"
	"github.com/crmkit/crm/core/store"
)

// localNode is the node id of a process whose store no other process can
// open (Badger locks its directory).
const localNode = "local"

// newLeases are the leases of this node: its id is server.node_id, else,
// for a store only this process can open (exclusive), a fixed one, so that
// a restart after a crash takes its leases back at once instead of
// waiting for them to expire; else a random one per process. A lease lasts
// server.lease.
func newLeases(st store.Store, sv config.Server, exclusive bool, log *slog.Logger) *lease.Leases {
	id := sv.NodeID
	if id == "" && exclusive {
		id = localNode
	}
	l := lease.New(st, lease.Options{Holder: id, TTL: sv.Lease, Logger: log})
	log.Debug("node", slog.String("node_id", l.Holder()), slog.Duration("lease", l.TTL()))
	return l
}
