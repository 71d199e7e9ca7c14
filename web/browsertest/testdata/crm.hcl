# The browser tests' fixture: a contact with a custom field and a custom
# entity, in six languages.
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

entity "contact" {
  field "driver_license" {
    type  = "string"
    label = "Driver licence"
  }
}

entity "vehicle" {
  label = "Vehicle"
  field "vin" {
    type     = "string"
    label    = "VIN"
    required = true
    unique   = true
  }
  field "mileage" {
    type  = "int"
    index = true
  }
  field "status" {
    type   = "enum"
    values = ["in_stock", "sold", "service"]
  }
  field "buyer" {
    type = "ref"
    to   = "contact"
  }
  field "price" { type = "money" }
  field "arrived" { type = "date" }
  field "photo" { type = "file" }
}

pipeline "sales" {
  entity = "deal"
  stages = ["new", "qualified", "proposal", "won", "lost"]
}
