// Release: what version-tag needs — semantic versions, Conventional Commits, version files, the changelog,
// and the git commands that commit, tag and push a release. The executable only parses arguments.
