package fsm

import "github.com/resolvx/resolvx/zone"

// ErrBadCommand marks a log entry this build cannot decode. It is a
// validation error: the entry is rejected on every node alike.
var ErrBadCommand = zone.ErrInvalid
