//go:build !unix

package upstream

import "errors"

var errNotDir = errors.New("not a directory")
