# Workflow rules for the car dealer of crm.hcl, with a test for each.
#
# Keep this file next to crm.hcl in a configuration directory:
#
#   crm check      --config DIR    # load and type-check everything
#   crm rules test --config DIR    # run the test blocks below
#   crm rules test --config DIR --dry-run --data DIR/data
#                                  # what the rules would do to the records in the store
#
# Values in rules are expr expressions inside HCL strings: text is in single
# quotes inside them ("'Follow up '"), field values are record.FIELD.

# A lead from the website gets a follow-up task for its owner, due in 2 hours.
rule "website_lead_follow_up" {
  on   = ["contact.created"]
  when = "record.source == 'website'"
  action "create_task" {
    title    = "'Follow up ' + record.name"
    assignee = "record.owner"
    due      = "now() + duration('2h')"
  }
}

test "website_lead_gets_a_task" {
  rule  = "website_lead_follow_up"
  now   = "2026-03-21T09:00:00+04:00"
  given = { name = "Ani Petrosyan", source = "website", owner = "u1" }
  expect {
    action "create_task" {
      title    = "Follow up Ani Petrosyan"
      assignee = "u1"
      due      = "2026-03-21T11:00:00+04:00"
    }
  }
}

test "walk_in_contact_gets_no_task" {
  rule  = "website_lead_follow_up"
  given = { name = "Aram", source = "walk_in", owner = "u1" }
  expect {
    matched = false
  }
}

# Every hour, the owner of a deal that has not moved for 3 days is reminded,
# once per version of the deal (not at every tick).
rule "idle_deal_reminder" {
  every    = "1h"
  for_each = "deal"
  filter   = "stage != 'won' && stage != 'lost'"
  when     = "since(record.updated_at) > duration('3d')"
  action "notify" {
    to      = "record.owner"
    title   = "'Idle deal'"
    message = "'Deal ' + record.title + ' has not moved since ' + format_date(record.updated_at, 'gregorian', 'd MMMM yyyy')"
  }
}

test "deal_idle_for_four_days_is_reminded" {
  rule  = "idle_deal_reminder"
  now   = "2026-03-21T09:00:00+04:00"
  given = {
    title      = "Fleet of 3 Niva"
    stage      = "offer"
    owner      = "u1"
    updated_at = "2026-03-17T08:00:00+04:00"
  }
  expect {
    action "notify" {
      to      = "u1"
      message = "Deal Fleet of 3 Niva has not moved since 17 March 2026"
    }
  }
}

test "deal_touched_yesterday_is_not_reminded" {
  rule  = "idle_deal_reminder"
  now   = "2026-03-21T09:00:00+04:00"
  given = { title = "Camry", stage = "offer", owner = "u1", updated_at = "2026-03-20T10:00:00+04:00" }
  expect {
    matched = false
  }
}

# Every morning at 9 (in locale.timezone), the owner of a contact whose
# birthday is today is reminded to greet them.
rule "birthday_greeting" {
  cron     = "0 9 * * *"
  for_each = "contact"
  when     = "record.birthday != nil && is_anniversary(record.birthday)"
  action "notify" {
    to      = "record.owner"
    title   = "'Birthday'"
    message = "'Today is the birthday of ' + record.name + ': call or send a greeting'"
  }
}

test "birthday_today_is_greeted" {
  rule  = "birthday_greeting"
  now   = "2026-05-14T09:00:00+04:00"
  given = { name = "Lilit", birthday = "1990-05-14", owner = "u2" }
  expect {
    action "notify" {
      to      = "u2"
      message = "Today is the birthday of Lilit: call or send a greeting"
    }
  }
}

test "birthday_tomorrow_is_not_greeted" {
  rule  = "birthday_greeting"
  now   = "2026-05-13T09:00:00+04:00"
  given = { name = "Lilit", birthday = "1990-05-14", owner = "u2" }
  expect {
    matched = false
  }
}

# Every stage change of a deal is logged as a note on the deal.
rule "log_stage_change" {
  on = ["deal.stage_changed"]
  action "create_record" {
    entity  = "'activity'"
    kind    = "'note'"
    subject = "'Stage: ' + old.stage + ' -> ' + record.stage"
    deal    = "record.id"
    contact = "record.contact"
    at      = "now()"
  }
}

test "stage_change_is_logged" {
  rule  = "log_stage_change"
  now   = "2026-03-21T09:00:00+04:00"
  given = { id = "D1", title = "Camry", stage = "test_drive", owner = "u1" }
  old   = { stage = "new" }
  expect {
    action "create_record" {
      kind    = "note"
      subject = "Stage: new -> test_drive"
      deal    = "D1"
      contact = null
      at      = "2026-03-21T09:00:00+04:00"
    }
  }
}

# A missed call gets a call-back task for the activity's owner, named after
# the contact who called.
rule "call_back_missed_call" {
  on   = ["activity.created"]
  when = "record.kind == 'call' && record.status == 'missed'"
  action "create_task" {
    title    = "'Call back ' + (related('contact')?.name ?? 'unknown caller')"
    assignee = "record.owner"
    due      = "now() + duration('30m')"
    contact  = "record.contact"
  }
}

test "missed_call_gets_a_call_back_task" {
  rule  = "call_back_missed_call"
  now   = "2026-03-21T15:10:00+04:00"
  given = { kind = "call", status = "missed", owner = "u3" }
  related "contact" {
    id   = "C1"
    name = "Narek"
  }
  expect {
    action "create_task" {
      title    = "Call back Narek"
      assignee = "u3"
      due      = "2026-03-21T15:40:00+04:00"
      contact  = "C1"
    }
  }
}

test "answered_call_gets_no_task" {
  rule  = "call_back_missed_call"
  given = { kind = "call", status = "answered", owner = "u3" }
  expect {
    matched = false
  }
}

# The managers hear of every won deal over 5,000,000 AMD.
rule "big_deal_won" {
  on   = ["deal.stage_changed"]
  when = "record.stage == 'won' && record.amount != nil && record.amount.currency == 'AMD' && record.amount.amount > 5000000"
  action "notify" {
    to      = "'role:manager'"
    title   = "'Big deal won'"
    message = "'Deal ' + record.title + ' won: ' + format_money(record.amount)"
  }
}

test "big_deal_won_notifies_managers" {
  rule  = "big_deal_won"
  given = { title = "Fleet of 3 Niva", stage = "won", amount = { amount = "14500000.00", currency = "AMD" } }
  old   = { stage = "financing" }
  user  = { id = "u1", role = "sales" }
  expect {
    action "notify" {
      to      = "role:manager"
      message = "Deal Fleet of 3 Niva won: 14,500,000.00 AMD"
    }
  }
}

test "small_deal_won_notifies_no_one" {
  rule  = "big_deal_won"
  given = { title = "Used Lada", stage = "won", amount = { amount = "2500000", currency = "AMD" } }
  old   = { stage = "offer" }
  expect {
    matched = false
  }
}

# A vehicle's status change is posted to the website's stock feed, signed
# with HMAC-SHA256 in X-Signature.
rule "vehicle_status_webhook" {
  on   = ["vehicle.updated"]
  when = "old.status != record.status"
  action "webhook" {
    url     = "'https://dealer.example.com/hooks/stock'"
    secret  = "'change-me'"
    timeout = "duration('5s')"
    body    = "{'vin': record.vin, 'status': record.status, 'was': old.status}"
  }
}

test "sold_vehicle_is_posted" {
  rule  = "vehicle_status_webhook"
  given = { vin = "XTA210740Y1234567", make = "Lada", model = "Niva", status = "sold" }
  old   = { status = "reserved" }
  expect {
    action "webhook" {
      url     = "https://dealer.example.com/hooks/stock"
      timeout = "5s"
      body    = { vin = "XTA210740Y1234567", status = "sold", was = "reserved" }
    }
  }
}

test "price_change_is_not_posted" {
  rule  = "vehicle_status_webhook"
  given = { vin = "XTA210740Y1234567", make = "Lada", model = "Niva", status = "in_stock", price = { amount = "6900000", currency = "AMD" } }
  old   = { price = { amount = "7200000", currency = "AMD" } }
  expect {
    matched = false
  }
}
