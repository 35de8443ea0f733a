//go:build unix && !linux

package devserver

import "syscall"

// setParentDeathSignal does nothing: only Linux can tie a child's life to
// its parent's. Elsewhere a killed drover may leave the dev server running.
func setParentDeathSignal(*syscall.SysProcAttr) {}
