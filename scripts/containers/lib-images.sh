# Sourced by fixture-images.sh and k8s-images.sh: local images built from a recipe directory
# (Dockerfile + files) plus artefacts copied into the build context, labelled with a hash of all of
# that, and rebuilt only when the hash changes. Needs scripts/infra/lib.sh (log, with_lock).

label_of() { docker image inspect -f '{{index .Config.Labels "freechat.fixture.recipe"}}' "$1" 2>/dev/null || true; }

# docker build with host networking. BuildKit when the CLI has buildx; else the classic builder,
# which every daemon still has (the Debian 20.10 CLI's and newer CLIs' without buildx).
docker_build() {
  if docker buildx version >/dev/null 2>&1; then
    DOCKER_BUILDKIT=1 docker build --network host "$@"
  else
    DOCKER_BUILDKIT=0 docker build --network host "$@" 2> >(grep -v -e 'DEPRECATED' -e 'legacy builder' \
      -e 'BuildKit is currently disabled' -e 'Install the buildx' -e 'https://docs.docker.com/go/buildx' -e '^ *$' >&2)
  fi
}

# recipe_hash VERSION BASE_IMAGE RECIPE_DIR [ARTEFACT[=NAME]]...: 16 hex digits over the version,
# the base image's id, the recipe's files (modes, names, contents) and the artefacts.
recipe_hash() {
  local version=$1 base=$2 dir=$3 spec; shift 3
  {
    echo "$version"
    docker image inspect -f '{{.Id}}' "$base"
    (cd "$dir" && find . -type f -printf '%m %p\n' | sort && find . -type f -print0 | sort -z | xargs -0 sha256sum)
    # Artefacts are identified by path, size and modification time (hashing ~100 MB each run is slow).
    for spec; do find "${spec%%=*}" -printf '%P %s %T@\n' | sort; done
  } | sha256sum | cut -c1-16
}

# build_image NAME TAG HASH RECIPE_DIR WHAT [ARTEFACT[=NAME]]... [-- BUILD_ARG...]: builds TAG from
# RECIPE_DIR (under the lock image-NAME… see callers) unless its label already says HASH. Each
# ARTEFACT (file or directory) is hard-linked or copied into the build context, as NAME when given,
# else under its own base name. WHAT goes into the log and the description label.
build_image() {
  local name=$1 tag=$2 hash=$3 dir=$4 what=$5; shift 5
  local artefacts=() spec
  while [ $# -gt 0 ] && [ "$1" != -- ]; do artefacts+=("$1"); shift; done
  [ $# = 0 ] || shift
  if [ "$(label_of "$tag")" = "$hash" ]; then return 0; fi   # built by another caller meanwhile
  local old ctx started=$SECONDS; old=$(docker image inspect -f '{{.Id}}' "$tag" 2>/dev/null || true)
  ctx=$(mktemp -d "${TMPDIR:-/tmp}/freechat-fixture-$name.XXXXXX")
  trap 'rm -rf "$ctx"' RETURN
  cp -a "$dir/." "$ctx/"
  for spec in ${artefacts[@]+"${artefacts[@]}"}; do
    local src=${spec%%=*} as; as=$(basename "$src"); [ "$spec" = "$src" ] || as=${spec#*=}
    # Hard links when the cache is on the same file system (jars: ~100 MB), copies otherwise.
    cp -al "$src" "$ctx/" 2>/dev/null || cp -a "$src" "$ctx/"
    if [ "$as" != "$(basename "$src")" ]; then mv "$ctx/$(basename "$src")" "$ctx/$as"; fi
  done
  log "building $tag ($what)"
  if ! docker_build -q -t "$tag" --label "freechat.fixture.recipe=$hash" \
      --label "org.opencontainers.image.description=local $what" "$@" "$ctx" >"$ctx.log" 2>&1; then
    tail -n 30 "$ctx.log" >&2; rm -f "$ctx.log"; log "building $tag failed"; return 1
  fi
  rm -f "$ctx.log"
  # The previous build of this tag, now untagged, would only take disk space.
  if [ -n "$old" ] && [ "$old" != "$(docker image inspect -f '{{.Id}}' "$tag")" ]; then
    docker image rm "$old" >/dev/null 2>&1 || true; fi
  log "built $tag in $((SECONDS - started)) s"
}
