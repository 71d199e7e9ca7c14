# The entities the example templates are filled from, for three industries.
# Put this file beside crm.hcl in a configuration directory
# (crm serve --config DIR): it uses crm.hcl's vehicle and its doctemplates
# plugin block.

# A car dealer: a deal sells a vehicle (the `vehicle` entity of crm.hcl);
# its lines are the extras.
entity "deal" {
  field "vehicle" {
    type = "ref"
    to   = "vehicle"
  }
}

entity "deal_line" {
  label  = "Deal line"
  labels = { hy = "Գործարքի տող", lt = "Sandorio eilutė", az = "Sövdələşmə sətri", fa = "ردیف معامله", ru = "Строка сделки" }
  field "deal" {
    type     = "ref"
    to       = "deal"
    required = true
  }
  field "name" { type = "string" }
  field "qty" { type = "int" }
  field "price" { type = "money" }
}

# A clinic: a treatment plan for a patient, its procedures by session.
entity "treatment_plan" {
  label  = "Treatment plan"
  labels = { hy = "Բուժման պլան", lt = "Gydymo planas", az = "Müalicə planı", fa = "طرح درمان", ru = "План лечения" }
  field "patient" {
    type     = "ref"
    to       = "contact"
    required = true
  }
  field "doctor" { type = "string" }
  field "starts_on" { type = "date" }
  field "total" { type = "money" }
}

entity "procedure" {
  label  = "Procedure"
  labels = { hy = "Պրոցեդուրա", lt = "Procedūra", az = "Prosedur", fa = "خدمت", ru = "Процедура" }
  field "plan" {
    type     = "ref"
    to       = "treatment_plan"
    required = true
  }
  field "name" { type = "string" }
  field "tooth" { type = "string" }
  field "session" { type = "int" }
  field "price" { type = "money" }
}

# A logistics firm: a shipment from a carrier to a consignee, its items.
entity "shipment" {
  label  = "Shipment"
  labels = { hy = "Բեռնափոխադրում", lt = "Siunta", az = "Yükdaşıma", fa = "محموله", ru = "Отправка" }
  field "carrier" {
    type = "ref"
    to   = "company"
  }
  field "consignee" {
    type = "ref"
    to   = "contact"
  }
  field "origin" { type = "string" }
  field "destination" { type = "string" }
  field "weight_kg" { type = "decimal" }
  field "cost" { type = "money" }
}

entity "shipment_item" {
  label  = "Shipment item"
  labels = { hy = "Բեռի միավոր", lt = "Siuntos prekė", az = "Yük vahidi", fa = "قلم محموله", ru = "Позиция груза" }
  field "shipment" {
    type     = "ref"
    to       = "shipment"
    required = true
  }
  field "name" { type = "string" }
  field "qty" { type = "int" }
  field "weight_kg" { type = "decimal" }
}

# Documents show in the timelines of the records they were made for: the
# plugin fills every ref field of `document` that points at the record, or
# at a record it refers to. contact, company and deal come with the plugin;
# this block (beside `plugin "doctemplates"`) adds the example entities.
entity "document" {
  field "treatment_plan" {
    type = "ref"
    to   = "treatment_plan"
  }
  field "shipment" {
    type = "ref"
    to   = "shipment"
  }
  field "vehicle" {
    type = "ref"
    to   = "vehicle"
  }
}
