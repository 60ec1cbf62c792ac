#!/usr/bin/env bash
# Installs code-server (VS Code 1.100.3 in a browser; the newest that runs on Node 20) into
# .e2e/code-server for the real-editor test. Only the npm registry and Debian packages are used:
# its plain `npm install -g` downloads prebuilt binaries and fails offline, so it is unpacked
# and its native modules are rebuilt here instead (see shared/README.md).
set -euo pipefail
VERSION="${CODE_SERVER_VERSION:-4.100.3}"
HERE="$(cd "$(dirname "$0")/.." && pwd)"
DEST="$HERE/.e2e/code-server"
if [ -f "$DEST/out/node/entry.js" ] && [ -f "$DEST/.installed-$VERSION" ]; then
  echo "code-server $VERSION already in $DEST"; exit 0
fi

need_apt=()
command -v rg >/dev/null || need_apt+=(ripgrep)
command -v chromium >/dev/null || need_apt+=(chromium)
dpkg -s libkrb5-dev >/dev/null 2>&1 || need_apt+=(libkrb5-dev)
command -v g++ >/dev/null || need_apt+=(g++)
command -v make >/dev/null || need_apt+=(make)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "installing Debian packages: ${need_apt[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

export npm_config_yes=true npm_config_audit=false npm_config_fund=false
# Builds of native modules (argon2, node-pty, kerberos...) use the local Node's headers.
rm -rf "$DEST" "$HERE/.e2e/pack"
mkdir -p "$HERE/.e2e/pack"
cd "$HERE/.e2e/pack"
npm pack "code-server@$VERSION" --silent
tar xzf "code-server-$VERSION.tgz"
mv package "$DEST"
rm -rf "$HERE/.e2e/pack"

cd "$DEST"
npm install --omit=dev --ignore-scripts --no-save --loglevel=error
npm rebuild argon2 --loglevel=error

cd "$DEST/lib/vscode"
npm install --omit=dev --ignore-scripts --no-save --loglevel=error
mkdir -p node_modules/@vscode/ripgrep/bin
ln -sf "$(command -v rg)" node_modules/@vscode/ripgrep/bin/rg
# Rebuild native modules; @vscode/ripgrep's own script would download a binary, so skip it.
for mod in $(ls -d node_modules/* node_modules/@*/* 2>/dev/null | grep -v '^node_modules/@[^/]*$'); do
  [ -f "$mod/binding.gyp" ] && npm rebuild "${mod#node_modules/}" --loglevel=error
done
ln -sfn node_modules node_modules.asar
ln -sf code-linux.sh bin/remote-cli/code-server
ln -sf browser-linux.sh bin/helpers/browser.sh

cd "$DEST/lib/vscode/extensions"
# Its postinstall script names every file it prunes: keep that in a log, shown on failure.
if ! npm install --omit=dev --no-save --loglevel=error >"$HERE/.e2e/install-extensions.log" 2>&1; then
  tail -40 "$HERE/.e2e/install-extensions.log"; exit 1
fi

touch "$DEST/.installed-$VERSION"
echo "code-server $VERSION installed in $DEST ($(du -sh "$DEST" | cut -f1))"
