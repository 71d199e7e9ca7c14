# The pipeline, tasks and notifications tests' fixture: the sales pipeline
# and a rule that, when a deal is won, gives its owner a task and a
# notification.
server {
  listen     = "127.0.0.1:0"
  data_dir   = "data"
  public_url = "http://localhost:8080"
}

locale {
  languages = ["en", "hy", "lt", "az", "fa", "ru"]
  default   = "en"
  calendar  = "gregorian"
  currency  = "AMD"
  timezone  = "Asia/Yerevan"
  region    = "AM"
}

pipeline "sales" {
  entity = "deal"
  label  = "Car sales"
  labels = { hy = "Մեքենաների վաճառք", lt = "Automobilių pardavimas", az = "Avtomobil satışı", fa = "فروش خودرو", ru = "Продажа автомобилей" }
  stages = ["new", "qualified", "proposal", "won", "lost"]
  # Overrides the built-in labels of the stage "qualified".
  stage_labels = {
    qualified = { en = "Test drive", hy = "Փորձնական վարում", lt = "Bandomasis važiavimas", az = "Test sürüşü", fa = "تست رانندگی", ru = "Тест-драйв" }
  }
}

rule "won_deal_follow_up" {
  on   = ["deal.stage_changed"]
  when = "record.stage == 'won'"
  action "create_task" {
    title    = "'Send the invoice for ' + record.title"
    assignee = "record.owner"
    due      = "now() + duration('24h')"
    deal     = "record.id"
  }
  action "notify" {
    to      = "record.owner"
    title   = "'Deal won'"
    message = "'Deal ' + record.title + ' was won'"
  }
}

role "sales" {
  read     = ["contact", "company", "deal", "activity", "task"]
  write    = ["contact", "deal", "activity", "task"]
  own_only = true
}

role "manager" {
  read     = ["*"]
  write    = ["*"]
  own_only = false
}

# A chain that never ends (each note "loop" writes another), cut at the
# depth limit: its last run fails, for the admin area's failures and retry.
rule "endless_notes" {
  on   = ["activity.created"]
  when = "record.subject == 'loop'"
  action "create_record" {
    entity  = "'activity'"
    kind    = "'note'"
    subject = "'loop'"
  }
}
