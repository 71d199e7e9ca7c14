package app

import (
	"context"

	"github.com/crmkit/crm/core/auth"
)

// userPrincipal finds the user a plugin acts for, with the user's current
// role, from the auth service: a disabled or unknown user is nil and may do
// nothing.
func userPrincipal(a *auth.Service) func(ctx context.Context, id string) *auth.Principal {
	return func(ctx context.Context, id string) *auth.Principal {
		user, err := a.User(ctx, id)
		if err != nil || user.Disabled {
			return nil
		}
		return a.Principal(user)
	}
}
