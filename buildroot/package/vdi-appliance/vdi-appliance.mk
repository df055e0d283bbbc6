################################################################################
#
# vdi-appliance
#
################################################################################

# The source is this repository (the tree's parent directory). Buildroot's
# cargo infrastructure builds offline (--offline --locked) and does not vendor
# a local site, so the hook below runs `cargo vendor` into the build copy:
# that one step needs crates.io. Nothing third-party is kept in the repository.
VDI_APPLIANCE_VERSION = 0.1.0
VDI_APPLIANCE_SITE = $(BR2_EXTERNAL_VDI_APPLIANCE_PATH)/..
VDI_APPLIANCE_SITE_METHOD = local
VDI_APPLIANCE_LICENSE = Apache-2.0
VDI_APPLIANCE_OVERRIDE_SRCDIR_RSYNC_EXCLUSIONS = --exclude /target --exclude /buildroot \
	--exclude /src/ui/node_modules --exclude /src/ui/dist
VDI_APPLIANCE_DEPENDENCIES = libvirt host-pkgconf host-nodejs
VDI_APPLIANCE_CARGO_ENV = PKG_CONFIG_ALLOW_CROSS=1

define VDI_APPLIANCE_VENDOR_CRATES
	cd $(@D) && $(HOST_DIR)/bin/cargo vendor --locked --versioned-dirs vendor > $(@D)/.cargo-vendor.toml
	mkdir -p $(@D)/.cargo
	mv $(@D)/.cargo-vendor.toml $(@D)/.cargo/config.toml
endef
VDI_APPLIANCE_POST_RSYNC_HOOKS += VDI_APPLIANCE_VENDOR_CRATES

# The console (src/ui) is built before cargo, which embeds src/ui/dist
# (build.rs): host Node.js's npm installs its packages from the npm
# registry (the one other step that needs the network), esbuild bundles it.
define VDI_APPLIANCE_BUILD_CONSOLE
	cd $(@D)/src/ui && $(NPM) ci --no-audit --no-fund && \
		$(NODEJS_BIN_ENV) $(HOST_DIR)/bin/node build.mjs
endef
VDI_APPLIANCE_POST_RSYNC_HOOKS += VDI_APPLIANCE_BUILD_CONSOLE

# The repository's own `make install-files` (the same files as the Debian
# image: binary, units, tmpfiles, scripts, docs, config), then the preset
# that enables the units at `systemctl preset-all`.
define VDI_APPLIANCE_INSTALL_TARGET_CMDS
	$(MAKE) -C $(@D) install-files DESTDIR=$(TARGET_DIR) INSTALL_STRIP= \
		BIN=$(@D)/target/$(RUSTC_TARGET_NAME)/release/vdi-appliance \
		DATA_DIR=$(call qstrip,$(BR2_PACKAGE_VDI_APPLIANCE_DATA_DIR)) \
		NETWORKD_DIR=/etc/systemd/network
	$(INSTALL) -D -m 0644 $(VDI_APPLIANCE_PKGDIR)/50-vdi-appliance.preset \
		$(TARGET_DIR)/usr/lib/systemd/system-preset/50-vdi-appliance.preset
endef

$(eval $(cargo-package))
