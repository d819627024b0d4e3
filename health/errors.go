package health

import (
	"context"
	"errors"
	"net"
	"net/url"
	"os"
)

// maxErrorLen caps Observation.Error.
const maxErrorLen = 200

// shortError turns a probe error into a short text for the API: the
// failure without URLs, headers or bodies.
func shortError(err error) string {
	if err == nil {
		return ""
	}
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded),
		errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		err = oe.Err
		if inner := errors.Unwrap(err); inner != nil {
			err = inner
		}
		return truncate(oe.Op + ": " + err.Error())
	}
	return truncate(err.Error())
}

func truncate(s string) string {
	if len(s) > maxErrorLen {
		return s[:maxErrorLen]
	}
	return s
}
