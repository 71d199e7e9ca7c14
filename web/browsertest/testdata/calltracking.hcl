# The caller card test's fixture: the first-party calltracking plugin as
# crm.hcl has it (its secret is the test's), and a role for the people who
# answer the phones.
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

role "agent" {
  read     = ["*"]
  write    = ["contact", "deal", "activity", "task"]
  own_only = false
}

plugin "calltracking" {
  read  = ["contact", "company", "activity", "deal", "ad_campaign"]
  write = ["phone_call", "activity", "contact", "deal"]
  config = {
    secret       = "browser-test-calltracking-secret"
    create_leads = true
    campaigns = {
      spring_ads = ["+37410555001"]
    }
  }
}
