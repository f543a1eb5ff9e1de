// aegis-node: one replica of an AEGIS cluster (actors/node_runner.hpp is its whole life). The
// same node with an agent embedded beside it is aegis-node-agent, whose main lives in control/.
#include "actors/node_runner.hpp"

int main(int argc, char** argv) {
  return aegis::node::run_node(argc, argv);
}
