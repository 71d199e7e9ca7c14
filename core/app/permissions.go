package app

import (
	"context"

	"github.com/crmkit/crm/core/auth"
)

// userPermissions answers the plugin host's questions about the user a
// plugin acts for, from the auth service: a disabled or unknown user may
// do nothing.
type userPermissions struct{ auth *auth.Service }

func (u userPermissions) principal(ctx context.Context, id string) *auth.Principal {
	user, err := u.auth.User(ctx, id)
	if err != nil || user.Disabled {
		return nil
	}
	return u.auth.Principal(user)
}

func (u userPermissions) CanRead(ctx context.Context, id, entity string) bool {
	p := u.principal(ctx, id)
	return p != nil && p.CanRead(entity)
}

func (u userPermissions) CanWrite(ctx context.Context, id, entity string) bool {
	p := u.principal(ctx, id)
	return p != nil && p.CanWrite(entity)
}

func (u userPermissions) CanChange(ctx context.Context, id, entity, owner string) bool {
	p := u.principal(ctx, id)
	return p != nil && p.CanChange(entity, owner)
}
