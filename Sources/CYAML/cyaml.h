#ifndef NETWATCH_CYAML_H
#define NETWATCH_CYAML_H
// libyaml, the system YAML 1.1 parser and emitter (Debian libyaml-dev).
#include <yaml.h>
#endif
