// Tests that use the lab get ProxyLab through TestSupport.
@_exported import ProxyLab
