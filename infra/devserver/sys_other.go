//go:build !unix

package devserver

import "syscall"

func sysProcAttr() *syscall.SysProcAttr { return nil }

// lockFile does not lock here; concurrent first builds of the Temporal CLI
// then each build their own copy, which is slower but still correct.
func lockFile(string) (func(), error) { return func() {}, nil }
