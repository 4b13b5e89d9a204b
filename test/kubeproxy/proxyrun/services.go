package proxyrun

import (
	"fmt"

	v1 "k8s.io/api/core/v1"
	discovery "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// NodeName is the node the proxiers run as; endpoints on it are local.
const NodeName = "node-a"

// Node addresses and the pod CIDRs the local-traffic detectors use.
const (
	NodeIPv4   = "10.0.0.10"
	NodeIPv6   = "fd00::10"
	PodCIDRv4  = "10.244.0.0/16"
	PodCIDRv6  = "fd00:10:244::/64"
	svcNetV4   = "10.96.%d.%d"
	svcNetV6   = "fd00:10:96::%x"
	podNetV4   = "10.244.%d.%d"
	podNetV6   = "fd00:10:244::%x"
	namespace  = "default"
	remoteNode = "node-b"
)

// Object is one Service and its EndpointSlices (one per address family).
type Object struct {
	Service *v1.Service
	Slices  []*discovery.EndpointSlice
}

// port describes one port of a service and its endpoints.
type port struct {
	name     string
	proto    v1.Protocol
	port     int32
	target   int32
	nodePort int32
}

// endpoint is one backend address, local when it runs on NodeName.
type endpoint struct {
	ip    string
	local bool
}

// svcSpec is what a fixture service needs; build turns it into API objects.
type svcSpec struct {
	name       string
	families   []v1.IPFamily
	typ        v1.ServiceType
	ports      []port
	eps        map[v1.IPFamily][]endpoint
	externalIP map[v1.IPFamily]string
	lbIP       map[v1.IPFamily]string
	lbRanges   []string
	etpLocal   bool
	itpLocal   bool
	hcNodePort int32
	affinity   bool
}

// clusterIPs are the service addresses of service number n, per family.
func clusterIP(fam v1.IPFamily, n int) string {
	if fam == v1.IPv6Protocol {
		return fmt.Sprintf(svcNetV6, n+1)
	}
	return fmt.Sprintf(svcNetV4, (n+1)/250, (n+1)%250+1)
}

// podIP is the address of endpoint e of service n.
func podIP(fam v1.IPFamily, n, e int) string {
	k := n*4 + e + 1
	if fam == v1.IPv6Protocol {
		return fmt.Sprintf(podNetV6, k)
	}
	return fmt.Sprintf(podNetV4, k/250, k%250+1)
}

func (s svcSpec) build(n int) Object {
	svc := &v1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: s.name, Namespace: namespace},
		Spec: v1.ServiceSpec{
			Type:       s.typ,
			IPFamilies: s.families,
		},
	}
	if len(s.families) > 1 {
		p := v1.IPFamilyPolicyRequireDualStack
		svc.Spec.IPFamilyPolicy = &p
	} else {
		p := v1.IPFamilyPolicySingleStack
		svc.Spec.IPFamilyPolicy = &p
	}
	for _, fam := range s.families {
		svc.Spec.ClusterIPs = append(svc.Spec.ClusterIPs, clusterIP(fam, n))
		if ip := s.externalIP[fam]; ip != "" {
			svc.Spec.ExternalIPs = append(svc.Spec.ExternalIPs, ip)
		}
		if ip := s.lbIP[fam]; ip != "" {
			svc.Status.LoadBalancer.Ingress = append(svc.Status.LoadBalancer.Ingress, v1.LoadBalancerIngress{IP: ip})
		}
	}
	svc.Spec.ClusterIP = svc.Spec.ClusterIPs[0]
	for _, p := range s.ports {
		svc.Spec.Ports = append(svc.Spec.Ports, v1.ServicePort{
			Name: p.name, Protocol: p.proto, Port: p.port,
			TargetPort: intstr.FromInt32(p.target), NodePort: p.nodePort,
		})
	}
	svc.Spec.LoadBalancerSourceRanges = s.lbRanges
	if s.typ == v1.ServiceTypeNodePort || s.typ == v1.ServiceTypeLoadBalancer || len(s.externalIP) > 0 {
		etp := v1.ServiceExternalTrafficPolicyCluster
		if s.etpLocal {
			etp = v1.ServiceExternalTrafficPolicyLocal
		}
		svc.Spec.ExternalTrafficPolicy = etp
	}
	svc.Spec.HealthCheckNodePort = s.hcNodePort
	itp := v1.ServiceInternalTrafficPolicyCluster
	if s.itpLocal {
		itp = v1.ServiceInternalTrafficPolicyLocal
	}
	svc.Spec.InternalTrafficPolicy = &itp
	if s.affinity {
		svc.Spec.SessionAffinity = v1.ServiceAffinityClientIP
		timeout := int32(10800)
		svc.Spec.SessionAffinityConfig = &v1.SessionAffinityConfig{ClientIP: &v1.ClientIPConfig{TimeoutSeconds: &timeout}}
	} else {
		svc.Spec.SessionAffinity = v1.ServiceAffinityNone
	}
	o := Object{Service: svc}
	for _, fam := range s.families {
		o.Slices = append(o.Slices, s.slice(fam, s.eps[fam]))
	}
	return o
}

// slice is the EndpointSlice of the service for one family.
func (s svcSpec) slice(fam v1.IPFamily, eps []endpoint) *discovery.EndpointSlice {
	at := discovery.AddressTypeIPv4
	suffix := "v4"
	if fam == v1.IPv6Protocol {
		at, suffix = discovery.AddressTypeIPv6, "v6"
	}
	sl := &discovery.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{
			Name:      s.name + "-" + suffix,
			Namespace: namespace,
			Labels:    map[string]string{discovery.LabelServiceName: s.name},
		},
		AddressType: at,
		Endpoints:   []discovery.Endpoint{},
	}
	yes := true
	for _, e := range eps {
		node := remoteNode
		if e.local {
			node = NodeName
		}
		sl.Endpoints = append(sl.Endpoints, discovery.Endpoint{
			Addresses:  []string{e.ip},
			Conditions: discovery.EndpointConditions{Ready: &yes, Serving: &yes},
			NodeName:   &node,
		})
	}
	for _, p := range s.ports {
		name, proto, tp := p.name, p.proto, p.target
		sl.Ports = append(sl.Ports, discovery.EndpointPort{Name: &name, Protocol: &proto, Port: &tp})
	}
	return sl
}

// endpoints makes k endpoints of service n for fam; the first is local
// when local is set.
func endpoints(fam v1.IPFamily, n, k int, local bool) []endpoint {
	var out []endpoint
	for e := 0; e < k; e++ {
		out = append(out, endpoint{ip: podIP(fam, n, e), local: local && e == 0})
	}
	return out
}

var (
	v4   = []v1.IPFamily{v1.IPv4Protocol}
	v6   = []v1.IPFamily{v1.IPv6Protocol}
	dual = []v1.IPFamily{v1.IPv4Protocol, v1.IPv6Protocol}
)

func tcp(name string, p, target int32) port {
	return port{name: name, proto: v1.ProtocolTCP, port: p, target: target}
}

// features are the fixture services that exercise every kind of rule the
// iptables proxier writes. Their names sort in creation order.
func features() []svcSpec {
	eps := func(n, k int, local bool, fams ...v1.IPFamily) map[v1.IPFamily][]endpoint {
		m := map[v1.IPFamily][]endpoint{}
		for _, f := range fams {
			m[f] = endpoints(f, n, k, local)
		}
		return m
	}
	np := func(p port, nodePort int32) port { p.nodePort = nodePort; return p }
	return []svcSpec{
		// ClusterIP, two ports (TCP and UDP), three endpoints, one local.
		{name: "f00-clusterip", families: v4, typ: v1.ServiceTypeClusterIP,
			ports: []port{tcp("http", 80, 8080), {name: "dns", proto: v1.ProtocolUDP, port: 53, target: 5353}},
			eps:   eps(0, 3, true, v1.IPv4Protocol)},
		// NodePort, Cluster traffic policy.
		{name: "f01-nodeport", families: v4, typ: v1.ServiceTypeNodePort,
			ports: []port{np(tcp("http", 80, 8080), 30001)}, eps: eps(1, 2, false, v1.IPv4Protocol)},
		// NodePort, Local external traffic policy, dual-stack, one local
		// endpoint per family.
		{name: "f02-nodeport-local", families: dual, typ: v1.ServiceTypeNodePort,
			ports: []port{np(tcp("http", 80, 8080), 30002)}, etpLocal: true, hcNodePort: 32002,
			eps: eps(2, 2, true, v1.IPv4Protocol, v1.IPv6Protocol)},
		// LoadBalancer with source ranges (the firewall chain).
		{name: "f03-lb", families: v4, typ: v1.ServiceTypeLoadBalancer,
			ports: []port{np(tcp("https", 443, 8443), 30003)}, eps: eps(3, 2, false, v1.IPv4Protocol),
			lbIP: map[v1.IPFamily]string{v1.IPv4Protocol: "192.0.2.10"}, lbRanges: []string{"203.0.113.0/24"}},
		// LoadBalancer, Local traffic policy, no local endpoint (DROP).
		{name: "f04-lb-local", families: dual, typ: v1.ServiceTypeLoadBalancer,
			ports: []port{np(tcp("http", 80, 8080), 30004)}, etpLocal: true, hcNodePort: 32004,
			eps:  eps(4, 2, false, v1.IPv4Protocol, v1.IPv6Protocol),
			lbIP: map[v1.IPFamily]string{v1.IPv4Protocol: "192.0.2.11", v1.IPv6Protocol: "2001:db8::11"}},
		// External IP.
		{name: "f05-externalip", families: v4, typ: v1.ServiceTypeClusterIP,
			ports: []port{tcp("http", 80, 8080)}, eps: eps(5, 2, false, v1.IPv4Protocol),
			externalIP: map[v1.IPFamily]string{v1.IPv4Protocol: "198.51.100.5"}},
		// Session affinity (the recent match).
		{name: "f06-affinity", families: dual, typ: v1.ServiceTypeClusterIP,
			ports: []port{tcp("http", 80, 8080)}, affinity: true,
			eps: eps(6, 3, false, v1.IPv4Protocol, v1.IPv6Protocol)},
		// No endpoints: REJECT, also on its node port and external IP.
		{name: "f07-noendpoints", families: dual, typ: v1.ServiceTypeNodePort,
			ports:      []port{np(tcp("http", 80, 8080), 30007)},
			eps:        map[v1.IPFamily][]endpoint{},
			externalIP: map[v1.IPFamily]string{v1.IPv4Protocol: "198.51.100.7", v1.IPv6Protocol: "2001:db8::7"}},
		// IPv6 only.
		{name: "f08-ipv6", families: v6, typ: v1.ServiceTypeNodePort,
			ports: []port{np(tcp("http", 80, 8080), 30008)}, eps: eps(8, 2, true, v1.IPv6Protocol)},
		// Internal traffic policy Local without a local endpoint (DROP).
		{name: "f09-itp-local", families: v4, typ: v1.ServiceTypeClusterIP,
			ports: []port{tcp("http", 80, 8080)}, itpLocal: true, eps: eps(9, 2, false, v1.IPv4Protocol)},
		// SCTP.
		{name: "f10-sctp", families: v4, typ: v1.ServiceTypeClusterIP,
			ports: []port{{name: "sctp", proto: v1.ProtocolSCTP, port: 9999, target: 9999}}, eps: eps(10, 1, false, v1.IPv4Protocol)},
	}
}

// generated are n plain services for the benchmark: ClusterIP with two
// endpoints; every fifth dual-stack, every tenth a NodePort.
func generated(n int) []svcSpec {
	var out []svcSpec
	for i := 0; i < n; i++ {
		s := svcSpec{name: fmt.Sprintf("g%05d", i), families: v4, typ: v1.ServiceTypeClusterIP, ports: []port{tcp("http", 80, 8080)}}
		if i%5 == 0 {
			s.families = dual
		}
		if i%10 == 0 {
			s.typ = v1.ServiceTypeNodePort
			s.ports[0].nodePort = int32(30100 + i%2000)
		}
		s.eps = map[v1.IPFamily][]endpoint{}
		for _, f := range s.families {
			s.eps[f] = endpoints(f, 100+i, 2, i%3 == 0)
		}
		out = append(out, s)
	}
	return out
}
