package vip

import "errors"

// ErrConfig marks an invalid Config; the error text names the field.
var ErrConfig = errors.New("vip: invalid configuration")
