package crmv1

import (
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// ErrorDomain is the domain of the ErrorInfo detail that carries a crm
// error code (and the field it is about) in a gRPC status.
const ErrorDomain = "crm"

// Error returns a gRPC status error with a crm error code ("denied",
// "not_found", "invalid_value", ...), a message for a person, and the field
// the error is about (may be empty), as an ErrorInfo detail.
func Error(c codes.Code, code, message, field string) error {
	st := status.New(c, message)
	info := &errdetails.ErrorInfo{Reason: code, Domain: ErrorDomain}
	if field != "" {
		info.Metadata = map[string]string{"field": field}
	}
	if withInfo, err := st.WithDetails(info); err == nil {
		st = withInfo
	}
	return st.Err()
}

// ErrorDetails reads what Error put into a status: its gRPC code, the crm
// error code and field (empty when the status has no such detail) and the
// message. ok is false when err is not a gRPC status at all.
func ErrorDetails(err error) (c codes.Code, code, message, field string, ok bool) {
	st, ok := status.FromError(err)
	if !ok {
		return codes.Unknown, "", "", "", false
	}
	for _, d := range st.Details() {
		if info, isInfo := d.(*errdetails.ErrorInfo); isInfo && info.GetDomain() == ErrorDomain {
			code, field = info.GetReason(), info.GetMetadata()["field"]
			break
		}
	}
	return st.Code(), code, st.Message(), field, true
}
