// Package shell quotes command lines for a POSIX shell, so that what the
// benchmark harnesses log and report can be pasted into one and run: URLs
// with '?' and '&', and paths with spaces, would otherwise be mangled.
//
//	shell.Join([]string{"curl", "-o", "a b", "http://h/x?a=1&b=2"})
//	// curl -o 'a b' 'http://h/x?a=1&b=2'
package shell
