# The default configuration: a small car dealer in Yerevan.
# `crm check` loads it and prints any problem as file:line:col.

server {
  listen     = "127.0.0.1:8080"
  data_dir   = "data"
  public_url = "http://localhost:8080"
}

locale {
  languages = ["en", "hy", "lt", "az", "fa", "ru"]
  default   = "en"
  calendar  = "gregorian" # or "jalali"; each user may override it in the UI
  currency  = "AMD"
  timezone  = "Asia/Yerevan"
  region    = "AM" # reads national phone numbers such as 091 123456
}

# Built-in entities (contact, company, deal, activity, task) take extra fields.
entity "contact" {
  field "preferred_language" {
    type   = "enum"
    label  = "Preferred language"
    labels = { hy = "Նախընտրած լեզու", lt = "Pageidaujama kalba", az = "Üstünlük verilən dil", fa = "زبان ترجیحی", ru = "Предпочитаемый язык" }
    values = ["en", "hy", "lt", "az", "fa", "ru"]
  }
  field "driver_license" { type = "string" }
}

entity "vehicle" {
  label  = "Vehicle"
  labels = { hy = "Մեքենա", lt = "Automobilis", az = "Avtomobil", fa = "خودرو", ru = "Автомобиль" }

  field "vin" {
    type     = "string"
    label    = "VIN"
    labels   = { hy = "VIN", lt = "VIN", az = "VIN", fa = "شماره شاسی", ru = "VIN" }
    required = true
    unique   = true
  }
  field "make" {
    type     = "string"
    required = true
    index    = true
  }
  field "model" {
    type     = "string"
    required = true
    index    = true
  }
  field "year" {
    type  = "int"
    index = true
  }
  field "mileage" {
    type  = "int"
    label  = "Mileage (km)"
    labels = { hy = "Վազք (կմ)", lt = "Rida (km)", az = "Yürüş (km)", fa = "کارکرد (کیلومتر)", ru = "Пробег (км)" }
    index = true
  }
  field "status" {
    type     = "enum"
    values   = ["in_stock", "reserved", "sold", "service"]
    required = true
    index    = true
  }
  field "buyer" {
    type = "ref"
    to   = "contact"
  }
  field "price" { type = "money" }
  field "arrived" { type = "date" }
  field "photos" { type = "file" }
  field "notes" { type = "text" }
}

# A deal's stage is one of its pipeline's stages.
# label/labels name the pipeline; stage_labels translate the stages (new,
# won and lost have built-in labels, which stage_labels may override).
pipeline "sales" {
  entity = "deal"
  label  = "Car sales"
  labels = { hy = "Մեքենաների վաճառք", lt = "Automobilių pardavimas", az = "Avtomobil satışı", fa = "فروش خودرو", ru = "Продажа автомобилей" }
  stages = ["new", "test_drive", "offer", "financing", "won", "lost"]
  stage_labels = {
    test_drive = { en = "Test drive", hy = "Փորձնական վարում", lt = "Bandomasis važiavimas", az = "Test sürüşü", fa = "تست رانندگی", ru = "Тест-драйв" }
    offer      = { en = "Offer", hy = "Առաջարկ", lt = "Pasiūlymas", az = "Təklif", fa = "پیشنهاد قیمت", ru = "Предложение" }
    financing  = { en = "Financing", hy = "Ֆինանսավորում", lt = "Finansavimas", az = "Maliyyələşdirmə", fa = "تأمین مالی", ru = "Финансирование" }
  }
}

role "sales" {
  read     = ["contact", "company", "deal", "activity", "task", "vehicle"]
  write    = ["contact", "deal", "activity", "task"]
  own_only = true # of what they write, see and change only their own records
}

role "manager" {
  read     = ["*"]
  write    = ["*"]
  own_only = false
}

# Call tracking: the first-party calltracking plugin. The PBX posts call
# events to /hooks/calltracking/generic, /asterisk or /twilio (see
# docs/calltracking.md); each call becomes an activity on the caller's
# timeline, an unknown caller a lead whose source is the campaign of the
# number called, and a missed call the call.missed event below.
plugin "calltracking" {
  read  = ["contact", "company", "activity", "ad_campaign"]
  write = ["phone_call", "activity", "contact", "deal"] # deal: a new deal gets its campaign as source
  config = {
    secret       = "change-me-shared-with-the-pbx" # X-Signature: sha256=<hex HMAC-SHA256 of the body>
    create_leads = true
    sla          = "2h" # a missed call answered back within it is returned
    settle       = "30s" # an end with no answer seen waits this long for a late answer before it is missed
    campaigns = {
      spring_ads = ["+37410555001"]
      radio      = ["+37410555002"]
    }
    # click_to_call on a contact rings the extension on the calling user's profile
    # (Your account, or Admin > Users) through Asterisk's ARI:
    # asterisk = { ari_url = "http://pbx:8088/ari", user = "crm", password = "..." }
  }
}

# A missed call: a task to call back, for the caller's owner; a new lead
# has none yet, and its task waits unassigned for whoever takes it.
rule "callback_missed_call" {
  on = ["call.missed"]
  action "create_task" {
    title    = "'Call back ' + record.name + ' (' + event.from + ')'"
    assignee = "record.owner != '' ? record.owner : nil"
    due      = "now() + duration('2h')"
  }
}

# Documents from templates (quotes, contracts, waybills): the first-party
# doctemplates plugin. Its entities (document_template, document,
# document_series) join the schema as a built-in plugin's do; it reads
# every record a template may show and writes only its own entities. It brings a "quote" template for
# deals; upload more with its upload_template action (see
# examples/doctemplates).
plugin "doctemplates" {
  read     = ["*"]
  write    = ["document_template", "document", "document_series"]
  config   = { series = "DOC" }
}

# When a deal reaches the offer stage, its quote is made as a PDF and shows
# in the deal's timeline (and its contact's and company's).
rule "quote_on_offer" {
  on   = ["deal.stage_changed"]
  when = "record.stage == 'offer'"
  action "doctemplates.generate_document" {
    template = "'quote'"
    format   = "'pdf'"
  }
}

# Invoices, payments and balances: the first-party accounting plugin. Its
# entities (invoice, invoice_line, payment, payment_allocation, product,
# invoice_series) join the schema; it reads the deals it invoices and their
# customers. Issue an invoice from a won deal with the deal's "Issue
# invoice" button; see docs/accounting.md. It brings an "invoice" document
# template to doctemplates.
plugin "accounting" {
  read   = ["contact", "company", "deal"]
  write  = ["invoice", "invoice_line", "payment", "payment_allocation", "product", "invoice_series", "accounting_export", "bank_line", "document_template"]
  config = { vat_percent = 20, series = "INV" }
}

# When an invoice is issued (a credit note too) and its lines are written,
# its PDF is made from the "invoice" template the accounting plugin brings
# to doctemplates (hence its write on document_template): the lines with
# their VAT, the totals, the total in words.
rule "invoice_document" {
  on = ["invoice.issued"]
  action "doctemplates.generate_document" {
    template = "'invoice'"
    format   = "'pdf'"
  }
}

# Once a day while an invoice stays unpaid past its due date, its owner
# gets a task to remind the customer.
rule "overdue_invoice_reminder" {
  on = ["invoice.overdue"]
  action "create_task" {
    title    = "'Remind the customer: invoice ' + event.number + ' is ' + string(event.days_overdue) + ' days overdue'"
    assignee = "record.owner"
    due      = "now() + duration('24h')"
    deal     = "event.deal"
  }
}
