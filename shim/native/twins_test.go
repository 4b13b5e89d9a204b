package native

import "testing"

// The namespace tests of this package run twice over: on the fake
// nf_tables (package internal/nfnl/fake), always and without root, against what the
// real iptables-nft did (testdata/fake) or the same checks; and in network
// namespaces against the real iptables-nft (root; required in CI). A
// contributor without root thus runs every scenario; only the kernel
// halves skip.

func TestRestoreCorpus(t *testing.T) {
	t.Run("fake", func(t *testing.T) { runTranscripts(t, "restore-corpus-") })
	t.Run("kernel", restoreCorpusInNamespaces)
}

func TestRestoreCommandsOnExistingRules(t *testing.T) {
	t.Run("fake", func(t *testing.T) { runTranscripts(t, "restore-commands-on-existing-rules") })
	t.Run("kernel", restoreCommandsOnExistingRulesInNamespaces)
}

func TestRestoreCommitsPerTable(t *testing.T) {
	t.Run("fake", func(t *testing.T) { runTranscripts(t, "restore-commits-per-table") })
	t.Run("kernel", restoreCommitsPerTableInNamespaces)
}

func TestCommandCorpus(t *testing.T) {
	t.Run("fake", func(t *testing.T) { runTranscripts(t, "commands-") })
	t.Run("kernel", commandCorpusInNamespaces)
}

func TestKubePayloads(t *testing.T) {
	t.Run("fake", func(t *testing.T) { runTranscripts(t, "kube-") })
	t.Run("kernel", kubePayloadsInNamespaces)
}

func TestXTCases(t *testing.T) {
	t.Run("fake", func(t *testing.T) { runTranscripts(t, "xt-cases") })
	t.Run("kernel", xtCasesInNamespaces)
}

func TestSaveEdgeCases(t *testing.T) {
	t.Run("fake", func(t *testing.T) { runTranscripts(t, "save-edge-cases") })
	t.Run("kernel", saveEdgeCasesInNamespaces)
}

func TestCheckFindsRulesOfTheRealTool(t *testing.T) {
	t.Run("fake", checkAndDeleteOnFake)
	t.Run("kernel", checkFindsRulesOfTheRealToolInNamespaces)
}

func TestSaveRefusesWhatItCannotDecode(t *testing.T) {
	t.Run("fake", saveRefusesWhatItCannotDecodeOnFake)
	t.Run("kernel", saveRefusesWhatItCannotDecodeInNamespaces)
}

func TestSaveHeader(t *testing.T) {
	t.Run("fake", saveHeaderOnFake)
	t.Run("kernel", saveHeaderInNamespaces)
}

func TestRetriesLostRaces(t *testing.T) {
	t.Run("fake", retriesLostRacesOnFake)
	t.Run("kernel", retriesLostRacesInNamespaces)
}

func TestRefusalsTouchNothing(t *testing.T) {
	t.Run("fake", func(t *testing.T) {
		h := newFakeHost(t)
		refusalsTouchNothing(t, func(seed string) { h.mustRun(seed, "iptables-restore") }, h.run, h.dump)
	})
	t.Run("kernel", refusalsTouchNothingInNamespaces)
}
