"""The manifest's categories: one per element of a CORDS manifest (CORDS.md §7.1, §12).

Defaults are the schema defaults of ``cordstypes.xsd`` (CORDS.md §7: "Defaults are the
schema defaults"); the schema's Cordscript-valued defaults (``plan``, ``vm``, ``firewall``,
``cordscript``) are not defaults here: creating the plan, the vm and the firewall and
resolving a node's type are explicit steps of the parser (CORDS.md §13). Sizes, speeds and
memory keep their CORDS string form (``1G``, ``8GB``, ``3GHz``): one place normalises
them, not the model. Accounts and users are the security component's; a manifest names
its account.
"""
from __future__ import annotations

from cords.model.base import Attributes, cords_action, cords_kind

__all__ = ["MANIFEST", "NODE", "INFRASTRUCTURE", "COMPUTE", "STORAGE", "VOLUME", "NETWORK", "ENDPOINT",
           "PORT", "IMAGE", "SYSTEM", "PACKAGE", "CONFIGURATION", "RELEASE", "INTERFACE", "ACTION", "SECURITY",
           "FIREWALL", "FIREWALL_BUILD", "CATEGORIES", "NODE_ACCESS", "NODE_SCOPE", "NODE_CATEGORY",
           "PORT_PROTOCOL", "PORT_DIRECTION"]

NODE_ACCESS = ("private", "public")
NODE_SCOPE = ("normal", "common")
NODE_CATEGORY = ("manifest", "PAAS_manifest")
PORT_PROTOCOL = ("tcp", "udp")
#: The manual writes them in capitals (NONE, IN, OUT, INOUT); every document uses lower case.
PORT_DIRECTION = ("none", "in", "out", "inout")

a = Attributes("manifest")
MANIFEST = cords_kind("manifest", "A CORDS manifest: the nodes of a service and how to configure them", (
    a.name("Name of the manifest, unique on the platform; complex nodes name their manifest by it.",
           required=True),
    a("description", "What the manifest describes (its description element)."),
    a.ref("plan", "plan", "the provisioning plan compiled from this manifest."),
    a.count("nodes", "nodes"),
    a.ref("configuration", "configuration", "the actions run when a service instance starts."),
    a.ref("release", "release", "the actions run before a service instance's resources are released."),
    a.ref("interface", "interface", "the actions complex nodes may invoke on instances of this manifest."),
    a("account", "Name of the account the manifest's services are for (an account of the security "
                 "component)."),
    a.ref("security", "security"),
    a("zone", "Default placement zone of the manifest's nodes."),
    a.state(),
))

a = Attributes("node")
NODE = cords_kind("node", "A node of a manifest: a simple node (infrastructure and image) or a nested manifest", (
    a.name("Name of the node, unique within its manifest; Cordscript statements address the node by it.",
           required=True),
    a("provider", "Provider category to provision with (openstack, opennebula, amazonEc2, dummy, ...), or any.",
      default="any"),
    a("operator", "Operator to provision with, or any.", default="any"),
    a("profile", "Provider subscription (profile) to provision with, used with provider."),
    a.ref("infrastructure", "infrastructure", "the hardware of a simple node."),
    a.ref("image", "image", "the software of a simple node."),
    a.enum("access", NODE_ACCESS, "public: reachable from outside its service (public address, firewall "
                                  "opened); private: only inside it.", default="private"),
    a.enum("scope", NODE_SCOPE, "normal: one contract per service instance; common: one contract shared "
                                "(CORDS.md §7.3).", default="normal"),
    a("type", "simple (described by infrastructure and image), or the name of the manifest that describes "
              "this complex node.", default="simple"),
    a.enum("category", NODE_CATEGORY, "Category of the manifest named by type.", default="manifest"),
    a("common", "URL of the contract or service shared by the instances of a common node; written when it is "
                "provisioned."),
    a("entry", "Entry point of a complex node, or none.", default="none"),
    a.ref("firewall", "firewall", "generated from the node's ports."),
    a("cordscript", "Parse-time Cordscript of the original platform, kept for its documents; never evaluated."),
    a.state(),
))

a = Attributes("infrastructure")
INFRASTRUCTURE = cords_kind("infrastructure", "The hardware of a node: one compute, one network, one storage", (
    a.name(), a.ref("compute", "compute"), a.ref("network", "network"), a.ref("storage", "storage"), a.state(),
))

a = Attributes("compute")
COMPUTE = cords_kind("compute", "Processing requirements of an infrastructure", (
    a.name(),
    a("architecture", "Processor architecture (x86, x86_64, ...)."),
    a.integer("cores", "Number of processor cores.", minimum=1),
    a("speed", "Processor speed with its unit (e.g. 1G, 3GHz)."),
    a("memory", "Memory size with its unit (e.g. 1G, 8GB)."),
    a("hostname", "Host name to give the machine."),
    a.state(),
))

a = Attributes("storage")
STORAGE = cords_kind("storage", "Storage requirements of an infrastructure", (
    a.name(), a("size", "Size with its unit (e.g. 10G, 1TB)."), a("type", "Kind of storage (e.g. SATA)."),
    a.state(),
))

a = Attributes("volume")
VOLUME = cords_kind("volume", "A volume of a storage", (
    a.name(), a("size", "Size with its unit (e.g. 10G)."), a("type", "Kind of volume."), a.state(),
))

a = Attributes("network")
NETWORK = cords_kind("network", "Network requirements of an infrastructure; its ports or endpoints are links", (
    a.name(), a("label", "Kind of network (e.g. ethernet)."), a("vlan", "Bandwidth or VLAN (e.g. 100M)."),
    a.state(),
))

a = Attributes("endpoint")
ENDPOINT = cords_kind("endpoint", "A network endpoint; its ports are links", (
    a.name(), a("description", "What the endpoint is for."), a("dns", "DNS name of the endpoint."),
    a("subnet", "Subnet of the endpoint."), a("range", "Address range of the endpoint (CIDR)."),
    a("label", "Kind of endpoint."), a.state(),
))

a = Attributes("port")
PORT = cords_kind("port", "A service port of a network, endpoint, package or firewall", (
    a.name(),
    a("description", "What the port is for."),
    a.enum("protocol", PORT_PROTOCOL, "Transport protocol."),
    a("range", "Addresses allowed to reach the port (CIDR, e.g. 0.0.0.0/0)."),
    a.integer("from", "First port number.", minimum=1, maximum=65535),
    a.integer("to", "Last port number.", minimum=1, maximum=65535),
    a.enum("direction", PORT_DIRECTION, "Traffic allowed through the port.", default="inout"),
    a.integer("target", "Port number to redirect to (address translation).", minimum=1, maximum=65535),
    a.state(),
))

a = Attributes("image")
IMAGE = cords_kind("image", "The software of a node: one system and its packages (links)", (
    a.name(),
    a.ref("system", "system"),
    a.ref("price", "price"),
    a.ref("vm", "vm", "the machine image built for it, once built."),
    a("agent", "Configuration agent inside the machine: cosacs, http:cosacs, https:cosacs or none.",
      default="cosacs"),
    a("created", "When the image was built."),
    a("updated", "When the image was last rebuilt."),
    a.count("packages", "packages"),
    a.state(),
))

a = Attributes("system")
SYSTEM = cords_kind("system", "The operating system of an image", (
    a.name("Operating system name or provider image id (e.g. ubuntu, debian_with_cosacs, an AMI id)."),
    a("version", "Version of the system."), a("distribution", "Distribution of the system."),
    a("description", "What the system is."), a("constraint", "Constraint on the system's choice."),
    a("requirement", "Requirement of the system."), a.ref("price", "price"), a("license", "License of the system."),
    a.state(),
))

a = Attributes("package")
PACKAGE = cords_kind("package", "A software package installed on an image; its ports are links", (
    a.name(),
    a("nature", "Nature of the package."),
    a("version", "Version of the package."),
    a("distribution", "Distribution the package comes from, or none.", default="none"),
    a("description", "What the package is."),
    a("constraint", "Constraint on the package."),
    a("requirement", "Requirements of the package (the requirements attribute of the XML element)."),
    a("mirrors", "Where to fetch the package, or none.", default="none"),
    a("installation", "How to install the package (# : the default way).", default="#"),
    a("configuration", "How to configure the package (# : the default way).", default="#"),
    a.ref("price", "price"),
    a("license", "License of the package."),
    a.state(),
))


def _actions_list(term: str, title: str):
    a = Attributes(term)
    return cords_kind(term, title, (a.name(), a.count("actions", "actions"), a.state()))


CONFIGURATION = _actions_list("configuration", "Actions run when a service instance of the manifest starts")
RELEASE = _actions_list("release", "Actions run before the resources of a service instance are released")
INTERFACE = _actions_list("interface", "Actions complex nodes may invoke on instances of the manifest")

a = Attributes("action")
ACTION = cords_kind("action", "One action of a configuration, release or interface: Cordscript statements", (
    a.name(),
    a("type", "Language of the expression.", default="cordscript"),
    a("expression", "The statements (CORDS.md §8), e.g. Node.configure(Other.hostname);"),
    a.state(),
))

a = Attributes("security")
SECURITY = cords_kind("security", "The security level a manifest's services need", (
    a.name(),
    a("level", "public (no measures), or a level (private, protected, ...) that scheme describes.",
      default="public"),
    a("scheme", "Security scheme or policy identifier; required when level is not public."),
    a.state(),
))

FIREWALL_BUILD = cords_action("firewall", "build", "Build the firewall rules from the node's ports")
a = Attributes("firewall")
FIREWALL = cords_kind("firewall", "The firewall of a node, generated from its ports (links)", (
    a.name(),
    a("description", "What the firewall protects."),
    a.ref("provider", "provider", "the provider of the node's contract."),
    a("profile", "Provider subscription (profile) of the node's contract."),
    a.ref("node", "node"),
    a.ref("endpoint", "endpoint"),
    a.ref("network", "network"),
    a.ref("image", "image"),
    a.ref("price", "price"),
    a.count("ports", "ports"),
    a.state(),
), actions=(FIREWALL_BUILD,))
del a

CATEGORIES = (MANIFEST, NODE, INFRASTRUCTURE, COMPUTE, STORAGE, VOLUME, NETWORK, ENDPOINT, PORT, IMAGE, SYSTEM,
              PACKAGE, CONFIGURATION, RELEASE, INTERFACE, ACTION, SECURITY, FIREWALL, FIREWALL_BUILD)
