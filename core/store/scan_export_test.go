package store

// Budgeted reports whether a filter runs instrumented on scans (false for
// a filter that cannot exceed a budget).
func (f *Filter) Budgeted() bool { return f.fast == nil }
