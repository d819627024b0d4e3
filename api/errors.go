package api

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"unicode"

	"github.com/resolvx/resolvx/zone"
)

// The error codes of the API. They are stable: clients and scripts test them.
const (
	CodeNotFound       = "NOT_FOUND"
	CodeAlreadyExists  = "ALREADY_EXISTS"
	CodeInvalidRequest = "INVALID_REQUEST"
	CodeValidation     = "VALIDATION_ERROR"
	CodeNoQuorum       = "NO_QUORUM"
	CodeInternal       = "INTERNAL_ERROR"
)

// Error is the error object of the envelope. The client returns API
// failures as *Error; Error() is the API's message and nothing else, so the
// CLI can print it as it is.
type Error struct {
	HTTPStatus int    `json:"-"`
	Code       string `json:"code"`
	Message    string `json:"message"`
}

func (e *Error) Error() string { return e.Message }

// requestError is an error the API raises about a request itself (its
// shape, its route, its size). It carries a code, so zone.CodeOf reads it
// like any other coded error, and the HTTP status when it differs from the
// code's usual one (413, 405).
type requestError struct {
	status int // 0: the code's status
	code   string
	msg    string
}

func (e *requestError) Error() string { return e.msg }
func (e *requestError) Code() string  { return e.code }

// badRequest returns an INVALID_REQUEST error.
func badRequest(format string, args ...any) error {
	return &requestError{code: CodeInvalidRequest, msg: fmt.Sprintf(format, args...)}
}

// invalid returns a VALIDATION_ERROR about a well-formed request whose
// content is not acceptable.
func invalid(format string, args ...any) error {
	return &requestError{code: CodeValidation, msg: fmt.Sprintf(format, args...)}
}

// notFound returns a NOT_FOUND error.
func notFound(format string, args ...any) error {
	return &requestError{code: CodeNotFound, msg: fmt.Sprintf(format, args...)}
}

// tooLarge is the error for a body over its limit (413, INVALID_REQUEST).
func tooLarge(limit int64) error {
	return &requestError{status: http.StatusRequestEntityTooLarge, code: CodeInvalidRequest,
		msg: fmt.Sprintf("request body is larger than the %s limit", byteSize(limit))}
}

// errorReply is the one place that maps an error to an HTTP status and the
// envelope's error object. Errors without a known code are internal: they
// are logged and replaced by a generic message, so internals never leak.
func errorReply(err error, logger *slog.Logger, r *http.Request) (int, *Error) {
	var re *requestError
	if errors.As(err, &re) && re.status != 0 {
		return re.status, &Error{HTTPStatus: re.status, Code: re.code, Message: clean(re.msg)}
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return errorReply(tooLarge(mbe.Limit), logger, r)
	}
	code := zone.CodeOf(err)
	var status int
	switch code {
	case CodeNotFound:
		status = http.StatusNotFound
	case CodeAlreadyExists:
		status = http.StatusConflict
	case CodeInvalidRequest:
		status = http.StatusBadRequest
	case CodeValidation:
		status = http.StatusUnprocessableEntity
	case CodeNoQuorum:
		status = http.StatusServiceUnavailable
	default:
		logger.Error("internal error", "method", r.Method, "path", r.URL.Path, "err", err)
		return http.StatusInternalServerError, &Error{HTTPStatus: http.StatusInternalServerError,
			Code: CodeInternal, Message: "internal error; see the server log"}
	}
	return status, &Error{HTTPStatus: status, Code: code, Message: clean(err.Error())}
}

// clean replaces control characters so that a message never carries raw
// control bytes (from a name, a path or a body) back to a terminal.
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == unicode.ReplacementChar {
			return '?'
		}
		return r
	}, s)
}

// byteSize renders a limit for messages: "1 MiB", "256 MiB", "512 bytes".
func byteSize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
