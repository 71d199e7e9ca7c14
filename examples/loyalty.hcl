# The loyalty-points example plugin (examples/loyalty), installed as a
# third-party plugin: an executable named by path and checked by SHA-256.
#
#   make examples   # builds bin/plugins/loyalty and prints its SHA-256 and this block
#
# Put this file next to crm.hcl in a configuration directory (every *.hcl in
# it is read and merged), or paste the plugin block into crm.hcl, then:
#
#   crm check --config DIR    # starts the plugin, checks its manifest
#   crm serve --config DIR
#
# The till posts its sales to POST /hooks/loyalty/till with
# X-Signature: sha256=<hex HMAC-SHA256 of the body, keyed with config.secret>.

plugin "loyalty" {
  path = "bin/plugins/loyalty"
  # PLACEHOLDER: replace with the SHA-256 that `make examples` prints. The
  # host refuses to run the executable at path unless its checksum is this
  # one, so every rebuild of the plugin needs the new value here.
  sha256 = "0000000000000000000000000000000000000000000000000000000000000000"

  # The plugin contributes loyalty_account: its manifest describes the
  # entity's fields, and crm adds it to the schema like any other entity
  # (API, history, rules).
  entities = ["loyalty_account"]
  read     = ["contact", "deal"]
  write    = ["loyalty_account"]

  config = {
    points_per = 1000              # one point per 1,000 currency units of a won deal or a sale
    secret     = "change-me-shared-with-the-till"
    region     = "AM"              # the till may send national numbers such as 091 123456 (unset: the locale block's region)
    silver_at  = 1000              # points earned for the silver tier
    gold_at    = 5000              # and for gold
  }
}
