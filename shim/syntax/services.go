package syntax

import (
	"bufio"
	"os"
	"strings"
	"sync"
)

// servicesFile is what getservbyname and getaddrinfo read for service
// names on the hosts iptables runs on.
var servicesFile = "/etc/services"

var (
	servicesOnce sync.Once
	// services maps a service name or alias to the protocols it is
	// listed for, "*" standing for any of them.
	services map[string]map[string]struct{}
)

// lookupServiceProtos returns the protocols /etc/services lists name for
// ("*" is set when it lists it for any). The file is read on first use,
// only when a port is given by name.
func lookupServiceProtos(name string) map[string]struct{} {
	servicesOnce.Do(func() {
		services = map[string]map[string]struct{}{}
		f, err := os.Open(servicesFile)
		if err != nil {
			return
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			line, _, _ := strings.Cut(sc.Text(), "#")
			fields := strings.Fields(line)
			if len(fields) < 2 {
				continue
			}
			_, proto, ok := strings.Cut(fields[1], "/")
			if !ok {
				continue
			}
			for i, n := range fields {
				if i == 1 {
					continue
				}
				m := services[n]
				if m == nil {
					m = map[string]struct{}{}
					services[n] = m
				}
				m[proto] = struct{}{}
				m["*"] = struct{}{}
			}
		}
	})
	return services[name]
}
