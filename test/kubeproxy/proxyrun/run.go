package proxyrun

import (
	"context"
	"fmt"
	"net"
	"reflect"
	"sync"
	"time"
	"unsafe"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	utilsysctl "k8s.io/component-helpers/node/util/sysctl"
	"k8s.io/klog/v2"
	kubeproxyconfig "k8s.io/kubernetes/pkg/proxy/apis/config"
	"k8s.io/kubernetes/pkg/proxy/iptables"
	proxyutil "k8s.io/kubernetes/pkg/proxy/util"
	utiliptables "k8s.io/kubernetes/pkg/util/iptables"
)

// canaryChain is the chain the proxier's iptables monitor creates in every
// table at start-up (kubeProxyCanaryChain in pkg/proxy/iptables).
const canaryChain = "KUBE-PROXY-CANARY"

// Run performs plan in the current network namespace with the iptables
// binaries PATH names, and reports every sync. It returns an error only
// when the proxiers cannot be set up at all; failed syncs are in the result.
func Run(plan Plan) (Result, error) {
	if plan.Services == 1 || plan.Services < 0 {
		return Result{}, fmt.Errorf("%d services: the partial syncs change two services, give 0 (the fixtures) or at least 2", plan.Services)
	}
	rec := newRecorder()
	ctx := klog.NewContext(context.Background(), rec.logger())

	config := &kubeproxyconfig.KubeProxyConfiguration{
		Mode: kubeproxyconfig.ProxyModeIPTables,
		IPTables: kubeproxyconfig.KubeProxyIPTablesConfiguration{
			MasqueradeBit:      ptr(int32(14)),
			LocalhostNodePorts: ptr(true),
		},
		// The harness triggers every sync itself: the periodic resync and
		// the iptables monitor's later checks must not interfere.
		SyncPeriod:    metav1.Duration{Duration: time.Hour},
		MinSyncPeriod: metav1.Duration{Duration: time.Second},
	}
	ipts := utiliptables.NewBestEffort()
	nodeIPs := map[v1.IPFamily]net.IP{v1.IPv4Protocol: net.ParseIP(NodeIPv4), v1.IPv6Protocol: net.ParseIP(NodeIPv6)}
	detectors := map[v1.IPFamily]proxyutil.LocalTrafficDetector{
		v1.IPv4Protocol: proxyutil.NewDetectLocalByCIDR(PodCIDRv4),
		v1.IPv6Protocol: proxyutil.NewDetectLocalByCIDR(PodCIDRv6),
	}
	proxiers := map[v1.IPFamily]*iptables.Proxier{}
	for _, fam := range families {
		ipt, ok := ipts[fam]
		if !ok {
			return Result{}, fmt.Errorf("no %s iptables runner (is %s on PATH?)", fam, map[v1.IPFamily]string{v1.IPv4Protocol: "iptables", v1.IPv6Protocol: "ip6tables"}[fam])
		}
		p, err := iptables.NewProxier(ctx, config, fam, ipt, utilsysctl.New(), detectors[fam],
			NodeName, nodeIPs[fam], &events.FakeRecorder{}, nil, false)
		if err != nil {
			return Result{}, fmt.Errorf("creating the %s proxier: %w", fam, err)
		}
		if !plan.NFAcct {
			// What nfacct.New() leaves when the kernel has no
			// nfnetlink_acct: the proxier then writes no nfacct rule.
			setField(p, "nfacct", nil)
		}
		proxiers[fam] = p
	}

	var objs []Object
	specs := features()
	base := 0
	if plan.Services > 0 {
		specs, base = generated(plan.Services), 100
	}
	for i, s := range specs {
		objs = append(objs, s.build(base+i))
	}

	each := func(f func(p *iptables.Proxier)) {
		for _, fam := range families {
			f(proxiers[fam])
		}
	}
	// sync runs one sync of both families at once, as the two proxiers'
	// loops do in kube-proxy.
	sync := func(step string, trigger func(p *iptables.Proxier)) {
		var wg sync.WaitGroup
		for _, fam := range families {
			rec.begin(fam, step)
			wg.Add(1)
			go func(p *iptables.Proxier) {
				defer wg.Done()
				trigger(p)
			}(proxiers[fam])
		}
		wg.Wait()
	}

	// Start-up: the informers deliver the existing objects, then report
	// both caches synced; the second report runs the first (full) sync.
	each(func(p *iptables.Proxier) {
		for _, o := range objs {
			p.OnServiceAdd(o.Service)
			for _, sl := range o.Slices {
				p.OnEndpointSliceAdd(sl)
			}
		}
		p.OnServiceSynced()
	})
	sync(StepFull, (*iptables.Proxier).OnEndpointSlicesSynced)

	// Partial sync 1: a new service, and more endpoints for another.
	extraIdx := len(objs) + base
	extra := svcSpec{name: "z-added", families: dual, typ: v1.ServiceTypeClusterIP, ports: []port{tcp("http", 80, 8080)}}
	extra.eps = map[v1.IPFamily][]endpoint{v1.IPv4Protocol: endpoints(v1.IPv4Protocol, extraIdx, 2, false), v1.IPv6Protocol: endpoints(v1.IPv6Protocol, extraIdx, 2, false)}
	added := extra.build(extraIdx)
	scaled := specs[1]
	scaled.eps = map[v1.IPFamily][]endpoint{}
	for _, fam := range scaled.families {
		scaled.eps[fam] = endpoints(fam, base+1, 3, false)
	}
	each(func(p *iptables.Proxier) {
		p.OnServiceAdd(added.Service)
		for _, sl := range added.Slices {
			p.OnEndpointSliceAdd(sl)
		}
		for i, fam := range scaled.families {
			p.OnEndpointSliceUpdate(objs[1].Slices[i], scaled.slice(fam, scaled.eps[fam]))
		}
	})
	sync(StepPartial1, (*iptables.Proxier).OnServiceSynced)

	// Partial sync 2: a service goes away, and another loses every
	// endpoint (its rules turn into REJECT).
	gone := objs[len(objs)-1]
	emptied := objs[0]
	each(func(p *iptables.Proxier) {
		p.OnServiceDelete(gone.Service)
		for _, sl := range gone.Slices {
			p.OnEndpointSliceDelete(sl)
		}
		for i, fam := range specs[0].families {
			p.OnEndpointSliceUpdate(emptied.Slices[i], specs[0].slice(fam, nil))
		}
	})
	sync(StepPartial2, (*iptables.Proxier).OnServiceSynced)

	// A forced full resync, as after the monitor found its canary gone.
	each(func(p *iptables.Proxier) { p.OnTopologyChange(map[string]string{}) })
	sync(StepResync, (*iptables.Proxier).OnServiceSynced)

	res := rec.result()
	res.NFAcct = map[string]map[string]bool{}
	for _, fam := range families {
		counters := map[string]bool{}
		for k, v := range getField(proxiers[fam], "nfAcctCounters").(map[string]bool) {
			counters[k] = v
		}
		if getField(proxiers[fam], "nfacct") != nil {
			counters["runner"] = true
		}
		res.NFAcct[string(fam)] = counters
	}
	if err := waitCanaries(ipts); err != nil {
		res.Other = append(res.Other, err.Error())
	}
	return res, nil
}

// waitCanaries waits until the iptables monitor, which runs beside the
// syncs, has created its canary chain in every table, so the final ruleset
// does not depend on when it got round to it.
func waitCanaries(ipts map[v1.IPFamily]utiliptables.Interface) error {
	deadline := time.Now().Add(30 * time.Second)
	for _, fam := range families {
		for _, table := range []utiliptables.Table{utiliptables.TableMangle, utiliptables.TableNAT, utiliptables.TableFilter} {
			for {
				ok, err := ipts[fam].ChainExists(table, canaryChain)
				if ok {
					break
				}
				if time.Now().After(deadline) {
					return fmt.Errorf("%s canary chain in %s never appeared: %v", fam, table, err)
				}
				time.Sleep(50 * time.Millisecond)
			}
		}
	}
	return nil
}

// setField sets an unexported field of the proxier: the harness's only
// intervention in its internals (see Plan.NFAcct).
func setField(p *iptables.Proxier, name string, value any) {
	f := reflect.ValueOf(p).Elem().FieldByName(name)
	w := reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem()
	if value == nil {
		w.Set(reflect.Zero(f.Type()))
		return
	}
	w.Set(reflect.ValueOf(value))
}

// getField reads an unexported field of the proxier (nil for a nil
// interface).
func getField(p *iptables.Proxier, name string) any {
	f := reflect.ValueOf(p).Elem().FieldByName(name)
	v := reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem()
	if v.Kind() == reflect.Interface && v.IsNil() {
		return nil
	}
	return v.Interface()
}

func ptr[T any](v T) *T { return &v }
