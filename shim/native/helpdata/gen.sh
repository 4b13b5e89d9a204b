#!/bin/bash
# Generates the help data from the real iptables-nft 1.8.9.
out=$1
D=/usr/lib/x86_64-linux-gnu/xtables
for fam in 4 6; do
  if [ $fam = 4 ]; then prog=iptables; pfx=libipt_; else prog=ip6tables; pfx=libip6t_; fi
  f=$out/ipv$fam.txt
  main=$(mktemp)
  xtables-nft-multi $prog -h > $main
  n=$(wc -c < $main)
  { echo "==== main"; cat $main; } > $f
  names=$(ls $D | sed -n -e "s/^libxt_\(.*\)\.so$/\1/p" -e "s/^$pfx\(.*\)\.so$/\1/p" | sort -u)
  cands=$( (for x in $names; do echo $x; echo ${x^^}; echo ${x,,}; done) | sort -u)
  for x in $cands; do
    for kind in match target; do
      if [ $kind = match ]; then opt=-m; else opt=-j; fi
      t=$(mktemp)
      xtables-nft-multi $prog $opt $x -h > $t 2>/dev/null || { rm $t; continue; }
      if [ $(wc -c < $t) -gt $n ] && cmp -s -n $n $t $main; then
        echo "==== $kind $x" >> $f
        tail -c +$((n+1)) $t >> $f
      fi
      rm $t
    done
  done
  rm $main
done
