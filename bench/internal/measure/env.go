package measure

import "os"

// CleanEnv is the environment every tool runs in. It is built from
// scratch rather than inherited so that the measurement does not depend on
// who runs it: no http_proxy or no_proxy (a proxy on the path would be
// measured instead of the tool), and HOME set to an empty directory so that
// ~/.curlrc, ~/.wgetrc, ~/.wget2rc, ~/.aria2/aria2.conf and ~/.axelrc
// cannot add options (and what a tool keeps in HOME, such as wget2's
// databases, lands there and not among its outputs). System-wide files
// (/etc/wgetrc, /etc/axelrc) still apply; the Debian defaults set nothing
// that matters here.
func CleanEnv(home string) []string {
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + home,
		"LC_ALL=C", // messages in English, numbers with '.'
	}
	if tmp := os.Getenv("TMPDIR"); tmp != "" {
		env = append(env, "TMPDIR="+tmp)
	}
	return env
}
