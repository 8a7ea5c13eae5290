# shellcheck shell=bash
# Adoption by a real `pulumi up` (docs/migration.md, step 5), sourced by scripts/e2e/run after the
# homelab stack is destroyed; it uses run's work directory, `p`, `show`, `summary` and `tsx`.
#
# A hand-written tree (tests/fixtures/migration/adoption-tree: the seed-style baselines, whose
# names the plan uses too, plus per-flow objects under other names) is applied server-side under
# ArgoCD's field manager. `npm run import` writes the stack, whose every object carries
# `pulumi.com/patchForce: "true"`; `pulumi up` of that stack then takes the same-named objects
# over (the v4.25.0 provider's server-side-apply create is an apply PATCH, forced by the
# annotation), and the report's `kubectl delete` lines remove the objects under other names once
# `up` has finished (delete after create). The API server is sampled throughout
# (scripts/e2e/adoption.ts `samples`); then the read-back must equal the plan, no old object may
# be left, and every planned object's spec must be owned by the provider's field manager (ArgoCD's
# owned every spec before; it keeps co-owning the fields it applied with the plan's values).

adoption_kinds="networkpolicies.networking.k8s.io,networkpolicies.projectcalico.org,$istio_kinds"
adopt_tsx=("$repo/node_modules/.bin/tsx" "$here/adoption.ts")

# Reads every policy kind, with their field managers, into $1-netpol.json, $1-calico.json and
# $1-istio.json.
adoption_read() {
  kubectl get networkpolicies.networking.k8s.io -A -o json --show-managed-fields >"$1-netpol.json" &&
    kubectl get networkpolicies.projectcalico.org -A -o json --show-managed-fields >"$1-calico.json" &&
    kubectl get "$istio_kinds" -A -o json --show-managed-fields >"$1-istio.json"
}

adoption_by_pulumi_up() {
  local a="$work/adopt-up" tree="$work/project/tests/fixtures/migration/adoption-tree" ns sampler rc
  mkdir -p "$a/samples"
  (cd "$work/project" && npm run --silent import -- "$tree" --stack adopted --report "$a/report.md") \
    >"$logs/adopt-import.log" 2>&1 || { show "$logs/adopt-import.log"; return 1; }
  grep '^- ' "$a/report.md"
  grep -q '^zt-netpol:adoption:' <(sed -n 's/^  //p' "$work/project/Pulumi.adopted.yaml") ||
    { echo "import wrote no zt-netpol:adoption setting"; return 1; }
  (cd "$work/project" && npm run --silent plan -- --stack adopted --out "$a/plan") \
    >"$logs/adopt-plan.log" 2>&1 || { show "$logs/adopt-plan.log"; return 1; }
  for ns in $("${tsx[@]}" namespaces "$a/plan/manifests.yaml"); do
    kubectl get namespace "$ns" >/dev/null 2>&1 || kubectl create namespace "$ns" >/dev/null || return 1
  done
  kubectl kustomize "$tree" >"$a/tree.yaml" || return 1
  # The API server refuses the tree's one object with ICMP in a Kubernetes policy, as a cluster would.
  if kubectl apply --server-side --field-manager=argocd-controller -f "$a/tree.yaml" \
    >"$logs/adopt-argocd-apply.log" 2>&1; then
    echo "the API server accepted ICMP in a Kubernetes policy"
    return 1
  fi
  grep -q 'ICMP' "$logs/adopt-argocd-apply.log" || { show "$logs/adopt-argocd-apply.log"; return 1; }
  echo "applied by argocd-controller: $(grep -c 'serverside-applied' "$logs/adopt-argocd-apply.log") objects (unipoller's refused: ICMP)"
  adoption_read "$a/before" || return 1
  "${adopt_tsx[@]}" held argocd-controller "$a/tree.yaml" \
    "$a/before-netpol.json" "$a/before-calico.json" "$a/before-istio.json" || return 1
  # The old objects under other names: the report's delete lines, run once `up` has finished.
  sed -n 's/^    \(kubectl delete .*\)$/\1/p' "$a/report.md" >"$a/retire.sh"
  [ -s "$a/retire.sh" ] || { echo "the report lists no object under another name"; return 1; }
  echo "the report retires $(wc -l <"$a/retire.sh") objects under other names after up"
  p stack init adopted >"$logs/adopt-stack.log" 2>&1 || { show "$logs/adopt-stack.log"; return 1; }
  (
    i=0
    while [ ! -e "$a/stop" ]; do
      kubectl get "$adoption_kinds" -A -o json >"$a/samples/$(printf %05d "$i").json" 2>/dev/null
      i=$((i + 1))
    done
  ) &
  sampler=$!
  sleep 1
  p up --yes --stack adopted --policy-pack "$policy_pack" \
    --policy-pack-config "$a/plan/policy-pack-config.json" >"$logs/adopt-up.log" 2>&1
  rc=$?
  [ $rc -eq 0 ] && { bash -e "$a/retire.sh" >"$logs/adopt-retire.log" 2>&1 || rc=$?; }
  sleep 2
  touch "$a/stop"
  wait "$sampler"
  if [ $rc -ne 0 ]; then
    show "$logs/adopt-up.log" 80
    [ -f "$logs/adopt-retire.log" ] && show "$logs/adopt-retire.log"
    return 1
  fi
  summary "$logs/adopt-up.log"
  "${adopt_tsx[@]}" samples "$a/tree.yaml" "$a/plan/manifests.yaml" "$a"/samples/*.json || return 1
  adoption_read "$a/live" || return 1
  "${tsx[@]}" live "$a/plan/manifests.yaml" "$a/live-netpol.json" "$a/live-calico.json" "$a/live-istio.json" ||
    return 1
  "${adopt_tsx[@]}" leftovers "$a/tree.yaml" "$a/plan/manifests.yaml" \
    "$a/live-netpol.json" "$a/live-calico.json" "$a/live-istio.json" || return 1
  "${adopt_tsx[@]}" released argocd-controller "$a/plan/manifests.yaml" \
    "$a/live-netpol.json" "$a/live-calico.json" "$a/live-istio.json"
}

# The adopted objects are Pulumi's now: `pulumi destroy` removes every one of them.
adoption_destroy() {
  local a="$work/adopt-up"
  p destroy --yes --stack adopted >"$logs/adopt-destroy.log" 2>&1 || { show "$logs/adopt-destroy.log" 60; return 1; }
  summary "$logs/adopt-destroy.log"
  adoption_read "$a/after" || return 1
  "${tsx[@]}" gone "$a/plan/manifests.yaml" "$a/after-netpol.json" "$a/after-calico.json" "$a/after-istio.json"
}
