package schema

import "github.com/crmkit/crm/config"

// ArgField returns a field that belongs to no entity, with the locale's
// defaults of s (currency, phone region), for checking a value as a
// record's values are checked: the plugin host checks a plugin action's
// arguments with such fields. Its name may be any, a system field's too.
// The error says what is wrong with cf (an unknown type, an enum without
// values).
func (s *Schema) ArgField(cf *config.Field) (*Field, error) {
	c := *cf
	c.Name = "argument"
	f, err := s.newField(&c)
	if err != nil {
		return nil, err
	}
	f.Name, f.Label = cf.Name, cf.Name
	return f, nil
}
