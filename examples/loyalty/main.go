// Command loyalty is an example third-party crm plugin: loyalty points for a
// retail client. It is written only against the plugin SDK
// (github.com/crmkit/crm/plugins/sdk), exactly as a partner would write one.
//
// What it does:
//
//   - It contributes an entity, loyalty_account: a contact (unique), a
//     points balance, the points earned over the account's life and a tier
//     (bronze, silver, gold) that follows the points earned.
//   - When a deal is won (a deal.stage_changed event whose new stage is
//     "won", or a deal.created event of a deal that is won already), it
//     credits the deal's contact with one point per `points_per` units of
//     the deal's amount (1,000 by default), creating the account if needed.
//     An event delivered twice credits once: the write carries the event's
//     idempotency key.
//   - Its action redeem (on a contact, argument points) takes points off
//     the balance, and refuses when there are not enough. The UI shows it as
//     a "Redeem points" button on contacts.
//   - Its webhook POST /hooks/loyalty/till is for the shop's till: a JSON
//     body {"phone": "+37491123456", "amount": 25000, "receipt": "R-1"},
//     signed with X-Signature: sha256=<hex HMAC-SHA256 of the body, keyed
//     with config.secret>; a request without a valid signature is
//     answered 401. It finds the contact by phone (a national number is
//     read in config.region, else in the instance's locale region) and
//     credits the points for the sale (once per receipt, when the till
//     sends one).
//
// Build and install it:
//
//	make examples   # builds bin/plugins/loyalty, prints its SHA-256 and the plugin block
//
// and name it in crm.hcl (see examples/loyalty.hcl):
//
//	plugin "loyalty" {
//	  path   = "bin/plugins/loyalty"
//	  sha256 = "<what make examples printed>"
//	  read   = ["contact", "deal"]
//	  write  = ["loyalty_account"]
//	  config = { points_per = 1000, secret = "<shared with the till>" }
//	}
package main

import "github.com/crmkit/crm/plugins/sdk"

func main() { sdk.Serve(&Loyalty{}) }
