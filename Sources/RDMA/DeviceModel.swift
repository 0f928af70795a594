// The device model (Device, DevicePort, RDMAError ...) is C-free, in RDMADevices, so that Pods can
// take discovered devices as data without linking verbs; whoever discovers them here sees it too.
@_exported import RDMADevices
