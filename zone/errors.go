package zone

import "errors"

// Error is an error with a stable, machine-readable code. The codes are the
// API's error codes, so every layer (the FSM, cluster forwarding, the HTTP
// API) can carry and map them without knowing each other's types.
type Error struct {
	code string
	msg  string
}

func (e *Error) Error() string { return e.msg }

// Code returns the stable code (for example "NOT_FOUND").
func (e *Error) Code() string { return e.code }

// Sentinel errors. Wrap them with fmt.Errorf("%w: detail", ErrX); callers
// test with errors.Is, or read the code with errors.As on interface{ Code() string }.
var (
	ErrNotFound = &Error{code: "NOT_FOUND", msg: "not found"}
	ErrExists   = &Error{code: "ALREADY_EXISTS", msg: "already exists"}
	ErrInvalid  = &Error{code: "VALIDATION_ERROR", msg: "invalid"}
)

// CodeOf returns the code carried by err, or "" when it has none.
func CodeOf(err error) string {
	var c interface{ Code() string }
	if errors.As(err, &c) {
		return c.Code()
	}
	return ""
}
